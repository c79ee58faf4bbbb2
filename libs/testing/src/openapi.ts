import SwaggerParser from '@apidevtools/swagger-parser';
import { INestApplication } from '@nestjs/common';
import type { OpenAPIV3 } from 'openapi-types';
import request from 'supertest';

/** The app's /openapi.json, checked to be a valid OpenAPI 3 document. */
export async function validOpenApiDocument(
  app: INestApplication,
): Promise<OpenAPIV3.Document> {
  const response = await request(app.getHttpServer())
    .get('/openapi.json')
    .expect(200);
  const document = response.body as OpenAPIV3.Document;
  expect(document.openapi).toMatch(/^3\./);
  // validate() dereferences in place; it gets a copy.
  await SwaggerParser.validate(structuredClone(document) as never);
  return document;
}

/** `METHOD /path` → its documented statuses, `{id}` style paths, for comparing with expectations. */
export function documentedStatuses(
  document: OpenAPIV3.Document,
): Record<string, string[]> {
  const routes: Record<string, string[]> = {};
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) {
      const operation = item?.[method];
      if (operation)
        routes[`${method.toUpperCase()} ${path}`] = Object.keys(
          operation.responses,
        ).sort();
    }
  }
  return routes;
}

/** Asserts the document lists exactly the routes the app serves (its own docs routes aside). */
export function expectEveryServedRouteDocumented(
  app: INestApplication,
  document: OpenAPIV3.Document,
): void {
  const documented = Object.keys(documentedStatuses(document)).sort();
  const served = servedRoutes(app).filter(
    (route) => !/ \/(docs|openapi)/.test(route),
  );
  expect(documented).toEqual(served.sort());
}

/** `METHOD /path` of every endpoint the app serves, from Express's route table, `{id}` style. */
function servedRoutes(app: INestApplication): string[] {
  const router = (
    app.getHttpAdapter().getInstance() as { router: { stack: RouteLayer[] } }
  ).router;
  return router.stack
    .filter(
      (layer) => layer.route && Object.keys(layer.route.methods).length === 1,
    )
    .map((layer) => {
      const method = Object.keys(layer.route!.methods)[0].toUpperCase();
      return `${method} ${layer.route!.path.replace(/:(\w+)/g, '{$1}')}`;
    });
}

interface RouteLayer {
  route?: { path: string; methods: Record<string, boolean> };
}
