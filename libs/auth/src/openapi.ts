import type { OpenAPIObject } from '@nestjs/swagger';
import { getSchemaPath } from '@nestjs/swagger';
import { ProblemDetailsDto } from '@app/contracts';
import { SCOPES_EXTENSION } from './scopes.decorator';

const SCHEME = 'bearer';

const problem = (description: string, headers: Record<string, object>) => ({
  description,
  headers,
  content: {
    'application/problem+json': {
      schema: { $ref: getSchemaPath(ProblemDetailsDto) },
    },
  },
});

const challenge = {
  'WWW-Authenticate': {
    description:
      'The RFC 6750 challenge: realm, and error (and scope) when a token was sent',
    schema: { type: 'string' },
  },
};

/**
 * The bearer scheme is declared whether or not authentication is on, so that a client generated
 * from any deployment's document knows how to send a token. On, each route says its scopes and
 * the 401, 403 and 503 it may then answer. Off, each route takes no token or any token
 * (`security: [{}, { bearer: [] }]`: a token sent is not checked), and the public routes (health,
 * metrics) none (`security: []`) either way.
 */
export function withSecurity(
  document: OpenAPIObject,
  enabled: boolean,
): OpenAPIObject {
  document.components = {
    ...document.components,
    securitySchemes: {
      ...document.components?.securitySchemes,
      [SCHEME]: {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description:
          "An access token from the organisation's identity provider, with the scopes each route lists",
      },
    },
  };
  for (const item of Object.values(document.paths)) {
    for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) {
      const operation = item[method] as
        | (NonNullable<(typeof item)['get']> & Record<string, unknown>)
        | undefined;
      if (!operation) continue;
      const scopes = operation[SCOPES_EXTENSION] as string[] | undefined;
      if (!scopes) {
        operation.security = [];
        continue;
      }
      if (!enabled) {
        operation.security = [{}, { [SCHEME]: [] }];
        continue;
      }
      // OpenAPI 3.0 lists scopes only for OAuth 2 schemes; the extension and the text carry them.
      operation.security = [{ [SCHEME]: [] }];
      operation.description = [
        operation.description,
        `Requires a bearer token with the scope${scopes.length > 1 ? 's' : ''} ${scopes.map((s) => `\`${s}\``).join(', ')}.`,
      ]
        .filter(Boolean)
        .join('\n\n');
      operation.responses['401'] ??= problem(
        'No bearer token, or one that is invalid or expired',
        challenge,
      );
      operation.responses['403'] ??= problem(
        `The token lacks the scope ${scopes.join(' ')}`,
        challenge,
      );
      operation.responses['503'] ??= problem(
        "The identity provider's signing keys are unavailable; see Retry-After",
        { 'Retry-After': { schema: { type: 'integer', minimum: 0 } } },
      );
    }
  }
  return document;
}
