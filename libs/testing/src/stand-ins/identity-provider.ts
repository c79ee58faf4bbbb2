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
}

/** How the token endpoint answers this request; undefined: as an identity provider would. */
export type TokenEndpointFault = (
  request: IncomingMessage,
  response: ServerResponse,
) => boolean;

/**
 * A stand-in OpenID provider on loopback that really signs (RS256): discovery, a key set, and a
 * client-credentials token endpoint. Tests sign tokens with it, rotate its key, count what it is
 * asked, and make its token endpoint fail.
 */
export class IdentityProvider {
  jwksRequests = 0;
  /** The form of each token request, with the client that authenticated. */
  readonly tokenRequests: { clientId: string; form: URLSearchParams }[] = [];
  /** Lifetime of the tokens the token endpoint issues. */
  tokenLifetimeS = 300;
  tokenEndpointFault?: TokenEndpointFault;
  /** How long the token endpoint takes to answer. */
  tokenDelayMs = 0;
  private key!: SigningKey;
  private readonly clients = new Map<string, string>();

  private constructor(
    private readonly server: Server,
    readonly issuer: string,
  ) {}

  static async start(): Promise<IdentityProvider> {
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
    provider = new IdentityProvider(server, `http://127.0.0.1:${port}`);
    await provider.rotateKey();
    return provider;
  }

  get jwksUrl(): string {
    return `${this.issuer}/jwks`;
  }

  get tokenUrl(): string {
    return `${this.issuer}/token`;
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

  /** A new signing key with a new `kid`; the key set from now on holds only it. */
  async rotateKey(): Promise<void> {
    this.key = {
      ...(await generateKeyPair('RS256', { extractable: true })),
      kid: randomUUID(),
    };
  }

  /** An access token signed with the current key. */
  async token(options: TokenOptions = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const jwt = new SignJWT({
      ...(options.scope !== undefined && { scope: options.scope }),
      ...options.claims,
    })
      .setProtectedHeader({ alg: 'RS256', kid: this.key.kid, typ: 'at+jwt' })
      .setIssuer(options.iss ?? this.issuer)
      .setAudience(options.aud ?? 'users')
      .setSubject(options.sub ?? 'user-1')
      .setIssuedAt(now)
      .setJti(randomUUID())
      .setExpirationTime(now + (options.expiresIn ?? 300));
    if (options.notBefore !== undefined)
      jwt.setNotBefore(now + options.notBefore);
    return jwt.sign(this.key.privateKey);
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
      await exportSPKI(this.key.publicKey),
    );
    const claims = JSON.parse(
      new TextDecoder().decode(base64url.decode(payload)),
    ) as JWTPayload;
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', kid: this.key.kid })
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
    if (request.url === '/.well-known/openid-configuration')
      return json(200, {
        issuer: this.issuer,
        jwks_uri: this.jwksUrl,
        token_endpoint: this.tokenUrl,
        grant_types_supported: ['client_credentials'],
        id_token_signing_alg_values_supported: ['RS256'],
      });
    if (request.url === '/jwks') {
      this.jwksRequests += 1;
      const jwk: JWK = await exportJWK(this.key.publicKey);
      return json(200, {
        keys: [{ ...jwk, kid: this.key.kid, alg: 'RS256', use: 'sig' }],
      });
    }
    if (request.url === '/token' && request.method === 'POST') {
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
          aud: form.get('audience') ?? 'users',
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
