import request from 'supertest';
import type { App } from 'supertest/types';
import type { IdentityProvider } from '../stand-ins/identity-provider';

/** A route under auth, and what it answers when let in. */
export interface GuardedRoute {
  method: 'get' | 'post' | 'patch' | 'delete';
  path: string;
  /** A fresh valid body per call, for routes that create. */
  body?: () => object;
  /** Headers the route needs besides Authorization, such as If-Match. */
  headers?: Record<string, string>;
  scope: string;
  status: number;
}

/** Changes one character of the signature, keeping it valid base64url. */
function tamperedSignature(token: string): string {
  const last = token.at(-2) === 'A' ? 'B' : 'A';
  return `${token.slice(0, -2)}${last}${token.at(-1)}`;
}

/**
 * Calls `route` with every kind of token RFC 6750 and the issue list, and sums each answer up as
 * `status error` (the WWW-Authenticate error, or the whole challenge when it has none). Throws if
 * a body echoes the token or says which check failed.
 */
export async function answersByToken(
  server: App,
  idp: IdentityProvider,
  route: GuardedRoute,
  audience: string,
): Promise<Record<string, string>> {
  const right = { scope: route.scope, aud: audience };
  const authorizations: Record<string, () => Promise<string | undefined>> = {
    'no token': async () => undefined,
    'another scheme': async () => 'Basic dXNlcjpwYXNz',
    // A scheme that merely contains or starts like `Bearer` is another scheme.
    'a scheme ending in Bearer': async () =>
      `xBearer ${await idp.token(right)}`,
    'a scheme starting with Bearer': async () =>
      `Bearerx ${await idp.token(right)}`,
    'a malformed bearer header': async () => 'Bearer not a token',
    // The whole header is one token68: a valid token inside more is not found and let in.
    'a valid token, then junk': async () =>
      `Bearer ${await idp.token(right)} trailing junk`,
    'junk, then a valid token': async () =>
      `Bearer junk Bearer ${await idp.token(right)}`,
    'a token that is not a JWT': async () => 'Bearer abc.def.ghi',
    'an expired token': async () =>
      `Bearer ${await idp.token({ ...right, expiresIn: -120 })}`,
    'a token not yet valid': async () =>
      `Bearer ${await idp.token({ ...right, notBefore: 120 })}`,
    'a token from another issuer': async () =>
      `Bearer ${await idp.token({ ...right, iss: 'https://id.evil.example' })}`,
    'a token for another audience': async () =>
      `Bearer ${await idp.token({ ...right, aud: 'someone-else' })}`,
    'a tampered signature': async () =>
      `Bearer ${tamperedSignature(await idp.token(right))}`,
    'alg none': async () => `Bearer ${await idp.unsignedToken(right)}`,
    'HS256 keyed with the public key': async () =>
      `Bearer ${await idp.publicKeyHmacToken(right)}`,
    'a token without the scope': async () =>
      `Bearer ${await idp.token({ ...right, scope: 'profile other:read' })}`,
    'the right scope': async () => `Bearer ${await idp.token(right)}`,
    'the right scope in scp': async () =>
      `Bearer ${await idp.token({ aud: audience, claims: { scp: [route.scope] } })}`,
  };
  const answers: Record<string, string> = {};
  for (const [name, authorization] of Object.entries(authorizations)) {
    const header = await authorization();
    let call = request(server)[route.method](route.path);
    for (const [name, value] of Object.entries(route.headers ?? {}))
      call = call.set(name, value);
    if (header) call = call.set('Authorization', header);
    const response = await (route.body ? call.send(route.body()) : call);
    const challenge = response.headers['www-authenticate'] as
      string | undefined;
    for (const token of header?.split(' ').slice(1) ?? [])
      if (token.length > 8 && response.text.includes(token))
        throw new Error(`${name}: the body echoes the token`);
    // A refusal carries a challenge; a route's own answer (a 404, say) is its status alone.
    answers[name] =
      response.status < 400 || challenge === undefined
        ? String(response.status)
        : `${response.status} ${/error="([^"]+)"/.exec(challenge ?? '')?.[1] ?? challenge}`;
  }
  return answers;
}

/** What `answersByToken` must give for a route: RFC 6750's answers, and the route's own when let in. */
export function expectedAnswersByToken(
  realm: string,
  status: number,
): Record<string, string> {
  const invalid = '401 invalid_token';
  return {
    'no token': `401 Bearer realm="${realm}"`,
    'another scheme': `401 Bearer realm="${realm}"`,
    'a scheme ending in Bearer': `401 Bearer realm="${realm}"`,
    'a scheme starting with Bearer': `401 Bearer realm="${realm}"`,
    'a malformed bearer header': invalid,
    'a valid token, then junk': invalid,
    'junk, then a valid token': invalid,
    'a token that is not a JWT': invalid,
    'an expired token': invalid,
    'a token not yet valid': invalid,
    'a token from another issuer': invalid,
    'a token for another audience': invalid,
    'a tampered signature': invalid,
    'alg none': invalid,
    'HS256 keyed with the public key': invalid,
    'a token without the scope': '403 insufficient_scope',
    'the right scope': String(status),
    'the right scope in scp': String(status),
  };
}
