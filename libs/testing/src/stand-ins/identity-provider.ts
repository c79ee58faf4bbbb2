import {
  base64url,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  JWK,
  JWTPayload,
  SignJWT,
} from 'jose';
import { randomUUID } from 'node:crypto';
import {
  createServer,
  IncomingMessage,
  Server,
  ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;

interface SigningKey extends KeyPair {
  kid: string;
}

/** The algorithms it signs with, each with a key of its own in the key set. */
export type SigningAlgorithm = 'RS256' | 'ES256';
const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = ['RS256', 'ES256'];

export interface TokenOptions {
  scope?: string;
  sub?: string;
  aud?: string | string[];
  iss?: string;
  /** Seconds from now; negative for a token that has expired. */
  expiresIn?: number;
  /** Seconds from now before which the token is not valid. */
  notBefore?: number;
  /** Other claims, e.g. client_id or scp. */
  claims?: JWTPayload;
  /** RS256 unless said. */
  alg?: SigningAlgorithm;
}

/** What an endpoint answers instead of what an identity provider would. */
export interface EndpointAnswer {
  status: number;
  body: unknown;
}

/** How the token endpoint answers this request; undefined: as an identity provider would. */
export type TokenEndpointFault = (
  request: IncomingMessage,
  response: ServerResponse,
) => boolean;

/**
 * A stand-in OpenID provider on loopback that really signs (RS256 and ES256): discovery, a key set,
 * and a client-credentials token endpoint. Tests sign tokens with it, rotate its keys, count what it
 * is asked, and make its endpoints fail or answer wrongly.
 */
export class IdentityProvider {
  discoveryRequests = 0;
  jwksRequests = 0;
  /** Set: the discovery endpoint answers this (e.g. another issuer, no `jwks_uri`, a 500). */
  discoveryAnswer?: EndpointAnswer;
  /** Set: the key set endpoint answers this. */
  jwksAnswer?: EndpointAnswer;
  /** The form of each token request, with the client that authenticated. */
  readonly tokenRequests: { clientId: string; form: URLSearchParams }[] = [];
  /** Lifetime of the tokens the token endpoint issues. */
  tokenLifetimeS = 300;
  tokenEndpointFault?: TokenEndpointFault;
  /** How long the token endpoint takes to answer. */
  tokenDelayMs = 0;
  private keys!: Record<SigningAlgorithm, SigningKey>;
  private readonly clients = new Map<string, string>();

  readonly issuer: string;
  /** Its endpoints' path prefix: the issuer's path without a trailing slash. */
  private readonly path: string;

  private constructor(
    private readonly server: Server,
    private readonly origin: string,
    issuerPath: string,
  ) {
    this.issuer = `${origin}${issuerPath}`;
    this.path = issuerPath.replace(/\/$/, '');
  }

  /**
   * @param issuerPath the issuer's path after its origin: empty (`http://127.0.0.1:<port>`), or
   *   e.g. `/` for an issuer with a trailing slash, as Auth0's, or `/realms/shop` as Keycloak's.
   */
  static async start(issuerPath = ''): Promise<IdentityProvider> {
    let provider: IdentityProvider | undefined;
    const server = createServer((request, response) => {
      provider!.handle(request, response).catch((error: unknown) => {
        response.writeHead(500).end(String(error));
      });
    });
    await new Promise<void>((resolve) =>
      server.listen(0, '127.0.0.1', resolve),
    );
    const { port } = server.address() as AddressInfo;
    provider = new IdentityProvider(
      server,
      `http://127.0.0.1:${port}`,
      issuerPath,
    );
    await provider.rotateKey();
    return provider;
  }

  get discoveryUrl(): string {
    return `${this.origin}${this.path}/.well-known/openid-configuration`;
  }

  get jwksUrl(): string {
    return `${this.origin}${this.path}/jwks`;
  }

  get tokenUrl(): string {
    return `${this.origin}${this.path}/token`;
  }

  /** Its OpenID discovery document, as it serves it unless told otherwise. */
  discoveryDocument(): Record<string, unknown> {
    return {
      issuer: this.issuer,
      jwks_uri: this.jwksUrl,
      token_endpoint: this.tokenUrl,
      grant_types_supported: ['client_credentials'],
      id_token_signing_alg_values_supported: SIGNING_ALGORITHMS,
    };
  }

  /** A client that may use the client credentials grant. */
  addClient(id: string, secret: string): void {
    this.clients.set(id, secret);
  }

  /** Registers orders as a client, and gives the orders settings that make it its identity. */
  usersServiceIdentity(clientId = 'orders') {
    const secret = `${clientId}-secret`;
    this.addClient(clientId, secret);
    return {
      USERS_SERVICE_TOKEN_URL: this.tokenUrl,
      USERS_SERVICE_CLIENT_ID: clientId,
      USERS_SERVICE_CLIENT_SECRET: secret,
    };
  }

  /** New signing keys with new `kid`s; the key set from now on holds only them. */
  async rotateKey(): Promise<void> {
    const keys = await Promise.all(
      SIGNING_ALGORITHMS.map(async (alg) => [
        alg,
        {
          ...(await generateKeyPair(alg, { extractable: true })),
          kid: randomUUID(),
        },
      ]),
    );
    this.keys = Object.fromEntries(keys) as Record<
      SigningAlgorithm,
      SigningKey
    >;
  }

  /** An access token signed with the current key of its algorithm. */
  async token(options: TokenOptions = {}): Promise<string> {
    const alg = options.alg ?? 'RS256';
    const key = this.keys[alg];
    const now = Math.floor(Date.now() / 1000);
    const jwt = new SignJWT({
      ...(options.scope !== undefined && { scope: options.scope }),
      ...options.claims,
    })
      .setProtectedHeader({ alg, kid: key.kid, typ: 'at+jwt' })
      .setIssuer(options.iss ?? this.issuer)
      .setAudience(options.aud ?? 'users')
      .setSubject(options.sub ?? 'user-1')
      .setIssuedAt(now)
      .setJti(randomUUID())
      .setExpirationTime(now + (options.expiresIn ?? 300));
    if (options.notBefore !== undefined)
      jwt.setNotBefore(now + options.notBefore);
    return jwt.sign(key.privateKey);
  }

  /** The same claims, unsigned (`alg: none`), as an attacker would send them. */
  async unsignedToken(options: TokenOptions = {}): Promise<string> {
    const [, payload] = (await this.token(options)).split('.');
    const header = base64url.encode(
      JSON.stringify({ alg: 'none', typ: 'JWT' }),
    );
    return `${header}.${payload}.`;
  }

  /**
   * The same claims signed HS256 with the public key as the secret: the classic confusion attack
   * on verifiers that take the algorithm from the token.
   */
  async publicKeyHmacToken(options: TokenOptions = {}): Promise<string> {
    const [, payload] = (await this.token(options)).split('.');
    const secret = new TextEncoder().encode(
      await exportSPKI(this.keys.RS256.publicKey),
    );
    const claims = JSON.parse(
      new TextDecoder().decode(base64url.decode(payload)),
    ) as JWTPayload;
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', kid: this.keys.RS256.kid })
      .sign(secret);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private async handle(
    request: IncomingMessage,
    response: ServerResponse,
  ): Promise<void> {
    const json = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    // Exactly its own paths: a verifier that builds a URL wrongly (`//.well-known`) gets a 404.
    if (request.url === `${this.path}/.well-known/openid-configuration`) {
      this.discoveryRequests += 1;
      const { status, body } = this.discoveryAnswer ?? {
        status: 200,
        body: this.discoveryDocument(),
      };
      return json(status, body);
    }
    if (request.url === `${this.path}/jwks`) {
      this.jwksRequests += 1;
      if (this.jwksAnswer)
        return json(this.jwksAnswer.status, this.jwksAnswer.body);
      const keys: JWK[] = await Promise.all(
        SIGNING_ALGORITHMS.map(async (alg) => ({
          ...(await exportJWK(this.keys[alg].publicKey)),
          kid: this.keys[alg].kid,
          alg,
          use: 'sig',
        })),
      );
      return json(200, { keys });
    }
    if (request.url === `${this.path}/token` && request.method === 'POST') {
      let body = '';
      for await (const chunk of request) body += String(chunk);
      const form = new URLSearchParams(body);
      const [clientId, secret] = Buffer.from(
        (request.headers.authorization ?? '').replace(/^Basic /, ''),
        'base64',
      )
        .toString()
        .split(':')
        .map(decodeURIComponent);
      this.tokenRequests.push({ clientId, form });
      if (this.tokenEndpointFault?.(request, response)) return;
      if (this.tokenDelayMs) await sleep(this.tokenDelayMs);
      if (this.clients.get(clientId) !== secret || !clientId)
        return json(401, { error: 'invalid_client' });
      if (form.get('grant_type') !== 'client_credentials')
        return json(400, { error: 'unsupported_grant_type' });
      return json(200, {
        access_token: await this.token({
          scope: form.get('scope') ?? '',
          sub: clientId,
          // RFC 8707: a resource indicator names the audience, as providers that support it do.
          aud: form.get('audience') ?? form.get('resource') ?? 'users',
          expiresIn: this.tokenLifetimeS,
          claims: { client_id: clientId },
        }),
        token_type: 'Bearer',
        expires_in: this.tokenLifetimeS,
      });
    }
    json(404, { error: 'not_found' });
  }
}
