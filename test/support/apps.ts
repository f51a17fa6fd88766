import type { DynamicModule } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { type AppAbout, createApp } from '@datarun/platform';
import request from 'supertest';
import { OpenApiContract, type OpenApiDocument } from './openapi-contract.js';

export interface TestApp {
  readonly app: NestFastifyApplication;
  readonly http: ReturnType<typeof request>;
  /** The OpenAPI document the app serves, which every answer through `http` is checked against. */
  readonly openApi: OpenApiDocument;
  close(): Promise<void>;
}

const VERBS = new Set(['get', 'post', 'put', 'patch', 'delete', 'head', 'options']);

/**
 * A supertest client whose every answer is also checked against the app's OpenAPI document
 * (after the test's own expectations, so a wrong status reads as that first).
 */
export function checkedClient(client: ReturnType<typeof request>, contract: OpenApiContract): ReturnType<typeof request> {
  return new Proxy(client, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof property !== 'string' || !VERBS.has(property) || typeof value !== 'function') return value;
      return (url: string, ...rest: unknown[]) => {
        const test = (value as (url: string, ...rest: unknown[]) => request.Test).call(target, url, ...rest);
        const end = test.end.bind(test);
        test.end = (callback) => {
          test.expect((res) => {
            const wrong = contract.check({ method: property, url, status: res.status, contentType: res.headers['content-type'], text: res.text });
            if (wrong) throw new Error(`OpenAPI contract: ${wrong}`);
          });
          return end(callback);
        };
        return test;
      };
    },
  });
}

/** Boots an app module in-process (no port) and gives a supertest client for it. */
export async function bootApp(module: DynamicModule, about: string | AppAbout = 'test'): Promise<TestApp> {
  const app = await createApp(module, typeof about === 'string' ? { name: about } : about);
  const served = await app.getHttpAdapter().getInstance().inject({ method: 'GET', url: '/openapi.json' });
  const openApi = served.json<OpenApiDocument>();
  return { app, http: checkedClient(request(app.getHttpServer()), new OpenApiContract(openApi)), openApi, close: () => app.close() };
}
