import { EnvInt } from '@app/config';
import {
  IsInt,
  IsNotEmpty,
  Matches,
  Max,
  Min,
  ValidateIf,
} from 'class-validator';

/** Signature algorithms with a public key: never `none`, never a shared secret (HS*). */
const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;

const ALGORITHM = `(${ASYMMETRIC_ALGORITHMS.join('|')})`;

/**
 * A claim name: visible ASCII but the comma, so that namespaced claims such as Auth0's
 * `https://example.com/roles` fit.
 */
const CLAIM = '[\\x21-\\x2B\\x2D-\\x7E]+';

/**
 * A comma-separated list of `item`, with spaces tolerated around each entry (`RS256, ES256`) and
 * none left empty.
 */
const listOf = (item: string) => new RegExp(`^ *${item} *(, *${item} *)*$`);

/** The entries of a comma-separated setting, as its validator accepts them. */
export function listSetting(value: string): string[] {
  return value.split(',').map((entry) => entry.trim());
}

/** What the auth lib reads from a service's environment; see docs/security.md. */
export class AuthSettings {
  /**
   * The OpenID provider whose access tokens this service accepts (its `iss`): set, every API
   * route needs a bearer token; empty leaves every route open, as the seed was.
   */
  @Matches(/^$|^https?:\/\/\S+$/, {
    message:
      '$property must be empty or an issuer URL like https://id.example.com/realms/shop',
  })
  AUTH_ISSUER = '';

  /** The audience (`aud`) tokens for this service carry; required with AUTH_ISSUER. */
  @ValidateIf((settings: AuthSettings) => settings.AUTH_ISSUER !== '')
  @IsNotEmpty({ message: '$property must be set when AUTH_ISSUER is set' })
  AUTH_AUDIENCE = '';

  /**
   * The issuer's key set (JWKS); empty: read from its OpenID discovery document,
   * `<AUTH_ISSUER>/.well-known/openid-configuration`.
   */
  @Matches(/^$|^https?:\/\/\S+$/, {
    message: '$property must be empty or a URL',
  })
  AUTH_JWKS_URL = '';

  /**
   * Accepted token signature algorithms, comma-separated; asymmetric ones only (`HS*` and `none`
   * are refused at start).
   */
  @Matches(listOf(ALGORITHM), {
    message: `$property must be a comma-separated list of ${ASYMMETRIC_ALGORITHMS.join(', ')}`,
  })
  AUTH_ALGORITHMS = 'RS256,PS256,ES256,EdDSA';

  /**
   * The claims a token's scopes are read from, in order: the first of them the token carries. Each
   * may hold a space-separated string or a list. `roles` added reads the application permissions
   * Entra ID issues to clients.
   */
  @Matches(listOf(CLAIM), {
    message:
      '$property must be a comma-separated list of claim names, none empty, like scope,scp',
  })
  AUTH_SCOPE_CLAIMS = 'scope,scp';

  /** Seconds of leeway on a token's `exp` and `nbf`, for clocks a little apart. */
  @EnvInt()
  @Max(300)
  @Min(0)
  @IsInt()
  AUTH_CLOCK_TOLERANCE_S = 30;

  /** After fetching the key set, how long before an unknown `kid` may fetch it again. */
  @EnvInt()
  @Max(3_600_000)
  @Min(0)
  @IsInt()
  AUTH_JWKS_COOLDOWN_MS = 30_000;
}

export function authEnabled(settings: AuthSettings): boolean {
  return settings.AUTH_ISSUER !== '';
}
