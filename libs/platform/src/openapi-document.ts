import type { DynamicModule, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, type OpenAPIObject, type OperationObject, SwaggerModule } from '@nestjs/swagger';

/** What an app says about itself: its name in logs and the title and description of its OpenAPI document. */
export interface AppAbout {
  readonly name: string;
  readonly description?: string;
}

/**
 * The OpenAPI document of an app: what it serves at /openapi.json and what docs/openapi/<app>.json
 * commits (scripts/openapi-export.ts builds it without connecting to anything). OpenAPI 3.1, so
 * the JSON Schemas of bodies and answers are published as they are validated (2020-12).
 */
export function openApiDocument(app: INestApplication, about: AppAbout): OpenAPIObject {
  const config = new DocumentBuilder()
    .setOpenAPIVersion('3.1.0')
    .setTitle(`datarun ${about.name}`)
    .setDescription(about.description ?? '')
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: "A JWT signed by the calling member's own key (API.md)" })
    .addSecurityRequirements('bearer')
    .build();
  const document = SwaggerModule.createDocument(app, config);
  for (const item of Object.values(document.paths)) {
    for (const operation of Object.values(item) as OperationObject[]) {
      // @PublicRoute() gives `[{}]` (ApiSecurity's only way to say "no scheme"); `[]` says the same plainly.
      if (operation.security?.length === 1 && Object.keys(operation.security[0]).length === 0) operation.security = [];
    }
  }
  return document;
}

/**
 * The document of an app module built in Nest's preview mode: controllers and their decorators
 * are scanned, no provider is instantiated, so nothing connects to PostgreSQL or Kafka.
 */
export async function previewOpenApiDocument(module: DynamicModule, about: AppAbout): Promise<OpenAPIObject> {
  const app = await NestFactory.create<NestFastifyApplication>(module, new FastifyAdapter(), { preview: true, logger: false, abortOnError: false });
  try {
    return openApiDocument(app, about);
  } finally {
    await app.close();
  }
}
