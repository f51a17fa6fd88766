import type { DynamicModule } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '@datarun/platform';
import request from 'supertest';

export interface TestApp {
  readonly app: NestFastifyApplication;
  readonly http: ReturnType<typeof request>;
  close(): Promise<void>;
}

/** Boots an app module in-process (no port) and gives a supertest client for it. */
export async function bootApp(module: DynamicModule, name = 'test', bodyLimit?: number): Promise<TestApp> {
  const app = await createApp(module, { name, bodyLimit });
  return { app, http: request(app.getHttpServer()), close: () => app.close() };
}
