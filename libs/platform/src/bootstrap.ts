import cluster from 'node:cluster';
import { ConfigError, type DatarunConfig, loadConfig, requireSupportedNode } from '@datarun/config';
import type { DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { RequestContext } from '@datarun/request-context';
import { correlationIdOf } from './correlation.js';
import { HttpMetrics } from './metrics.js';
import { openApiDocument } from './openapi-document.js';
import { PLATFORM_OPTIONS, type PlatformOptions } from './platform.module.js';
import type { AppAbout } from './openapi-document.js';

export interface AppOptions extends AppAbout {
  /** Largest accepted request body in bytes; larger ones are 413 PAYLOAD_TOO_LARGE. */
  readonly bodyLimit?: number;
}

export interface RegisteredRoute {
  readonly method: string;
  readonly url: string;
}
const registeredRoutes = new WeakMap<NestFastifyApplication, RegisteredRoute[]>();

/** Every route the app registered (controllers, docs, probes): what the OpenAPI test checks. */
export function routesOf(app: NestFastifyApplication): readonly RegisteredRoute[] {
  return registeredRoutes.get(app) ?? [];
}

/** Builds and initialises an app without listening: what main.ts and the tests share. */
export async function createApp(module: DynamicModule, options: AppOptions): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: options.bodyLimit ?? 256 * 1024,
    genReqId: correlationIdOf,
    routerOptions: { ignoreTrailingSlash: true },
  });
  // Nest's own start-up lines wait in a buffer for the app's logger; when the app cannot be made
  // (a ConfigError from a provider: a key file), runApp says why in one line and they are dropped.
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, { bufferLogs: true, autoFlushLogs: false, abortOnError: false });
  app.useLogger(app.get(Logger));
  app.flushLogs();
  app.enableShutdownHooks();

  const fastify = app.getHttpAdapter().getInstance();
  const { binaryBodies } = app.get<PlatformOptions>(PLATFORM_OPTIONS);
  if (binaryBodies) {
    fastify.addContentTypeParser([...binaryBodies.types], { parseAs: 'buffer', bodyLimit: binaryBodies.limit }, (_request, body, done) => done(null, body));
  }
  const routes: RegisteredRoute[] = [];
  fastify.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method: method.toLowerCase(), url: route.url });
  });
  registeredRoutes.set(app, routes);
  const httpMetrics = app.get(HttpMetrics);
  // The request context of every request (matched or not), entered before anything else reads it:
  // the rest of the request (body, guard, handler, filter) runs inside it. A callback hook, because
  // the context must enclose the continuation, which `done` is; Fastify keeps it across the body.
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    RequestContext.run(request.id, done);
  });
  fastify.addHook('onResponse', async (request, reply) => {
    httpMetrics.duration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  const document = openApiDocument(app, options);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'openapi.json', yamlDocumentUrl: 'openapi.yaml' });

  await app.init();
  await fastify.ready();
  return app;
}

/**
 * main.ts of every app: load the config, build, listen, and print where. Bad configuration (a
 * variable, a key file, a development default in production: ConfigError, whether the config, the
 * module's forRoot or a provider at creation found it) and a port in use end the process with one
 * line, not a stack trace.
 */
export async function runApp(
  build: (config: DatarunConfig) => DynamicModule,
  options: AppOptions & { port: (config: DatarunConfig) => number; workers?: (config: DatarunConfig) => number },
): Promise<void> {
  requireSupportedNode(options.name);
  let config: DatarunConfig;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) return exitWith(`${options.name}: configuration error: ${error.message}`);
    throw error;
  }
  const port = options.port(config);
  const workers = options.workers?.(config) ?? 1;
  if (workers > 1 && cluster.isPrimary) return superviseWorkers(options.name, workers);
  let app: NestFastifyApplication;
  try {
    app = await createApp(build(config), options);
  } catch (error) {
    if (error instanceof ConfigError) return exitWith(`${options.name}: configuration error: ${error.message}`);
    throw error;
  }
  try {
    await listen(app, options.name, port, config.host);
  } catch (error) {
    if (error instanceof PortInUse) return exitWith(error.message);
    throw error;
  }
  app.get(Logger).log(`${options.name} listening on http://${config.host}:${port} on Node ${process.version} (OpenAPI at /openapi.json, docs at /docs)`);
}

/** The port is taken: one line naming it, for the operator. */
export class PortInUse extends Error {
  override name = 'PortInUse';
}

/** Listens, or closes the app and throws PortInUse naming the port when another process has it. */
export async function listen(app: NestFastifyApplication, name: string, port: number, host: string): Promise<void> {
  try {
    await app.listen({ port, host });
  } catch (error) {
    await app.close().catch(() => undefined);
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE')
      throw new PortInUse(`${name}: port ${port} on ${host} is already in use (set the port variable to move it)`);
    throw error;
  }
}

/**
 * Several processes on one port (node:cluster hands each connection to one of them): one Node
 * process uses one core, and a stateless app scales by processes. A worker that dies takes the
 * others down with it, so the supervisor above (npm start, the orchestrator) sees the failure.
 */
function superviseWorkers(name: string, workers: number): void {
  process.stdout.write(`${name}: starting ${workers} worker processes\n`);
  for (let i = 0; i < workers; i += 1) cluster.fork();
  let stopping = false;
  const stop = (code: number) => {
    if (stopping) return;
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    setTimeout(() => process.exit(code), 10_000).unref();
  };
  cluster.on('exit', (worker, code, signal) => {
    if (!stopping) process.stderr.write(`${name}: worker ${worker.process.pid} exited (${signal ?? `code ${code}`}); stopping\n`);
    stop(code ?? 1);
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(stopping ? 0 : 1);
  });
  process.on('SIGINT', () => stop(0));
  process.on('SIGTERM', () => stop(0));
}

function exitWith(line: string): never {
  process.stderr.write(`${line}\n`);
  process.exit(1);
}
