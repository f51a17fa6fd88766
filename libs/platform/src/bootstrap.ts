import cluster from 'node:cluster';
import type { Server } from 'node:http';
import { ConfigError, DATARUN_CONFIG, type DatarunConfig, type HttpConfig, loadConfig, requireSupportedNode } from '@datarun/config';
import type { DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import type { onRequestHookHandler } from 'fastify';
import { Logger } from 'nestjs-pino';
import { servePrimaryMetrics } from '@datarun/metrics';
import { Problem } from '@datarun/problems';
import { RequestContext } from '@datarun/request-context';
import { correlationIdOf } from './correlation.js';
import { HttpMetrics } from './metrics.js';
import { openApiDocument } from './openapi-document.js';
import { PLATFORM_OPTIONS, type PlatformOptions } from './platform.module.js';
import type { AppAbout } from './openapi-document.js';
import { EdgeAuthentication } from './edge-authentication.js';
import { type DatarunRouteConfig, PUBLIC_ACCESS, type RouteAccess, routeAccessOf } from './route-options.js';

export type AppOptions = AppAbout;

export interface RegisteredRoute {
  readonly method: string;
  readonly url: string;
  /** Who may call it (undefined: any verified caller, the use case decides). */
  readonly access?: RouteAccess;
}

/** Where SwaggerModule serves the document and its page: public, like the probes. */
const DOCS_PAGE = 'docs';
const DOCUMENT_URLS = new Set(['/openapi.json', '/openapi.yaml']);
const isDocsRoute = (url: string) => DOCUMENT_URLS.has(url) || url === `/${DOCS_PAGE}` || url.startsWith(`/${DOCS_PAGE}/`);
const registeredRoutes = new WeakMap<NestFastifyApplication, RegisteredRoute[]>();

/** Every route the app registered (controllers, docs, probes): what the OpenAPI test checks. */
export function routesOf(app: NestFastifyApplication): readonly RegisteredRoute[] {
  return registeredRoutes.get(app) ?? [];
}

/** Builds and initialises an app without listening: what main.ts and the tests share. */
export async function createApp(module: DynamicModule, options: AppOptions): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    // Every route gets its own limit below (HTTP_BODY_LIMIT or its @BodyLimit); this one only
    // bounds what no route claims (unmatched requests).
    bodyLimit: 64 * 1024,
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
  const { http } = app.get<DatarunConfig>(DATARUN_CONFIG);
  applyTimeouts(app.getHttpServer() as Server, http);
  // A request that names JSON and sends nothing has no body (an optional one is then absent, a
  // required one JsonBody's 400), not Fastify's own 400 for an empty JSON body. Otherwise Fastify's
  // JSON parser, with prototype and constructor poisoning refused.
  const json = fastify.getDefaultJsonParser('error', 'error');
  app.useBodyParser<Server>('application/json', {}, (request, body, done) =>
    body.length === 0 ? done(null, undefined) : json(request, body.toString('utf8'), done),
  );
  const { binaryBodies } = app.get<PlatformOptions>(PLATFORM_OPTIONS);
  if (binaryBodies) {
    // No limit of the parser's own: the route's applies (only the upload route raises it).
    fastify.addContentTypeParser([...binaryBodies.types], { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  }
  // Nothing is read before the caller is known: every route that is not public gets a hook of its
  // own that checks the token and the route's roles (the app's EdgeAuthentication) before Fastify
  // reads a byte of the body. Route hooks run after the global ones below, inside the context.
  // Looked up when the first route that needs a caller is made: an app whose routes are all public
  // (the sandbox, a connector) has none, and asking Nest for a missing provider logs an error.
  let authentication: EdgeAuthentication | null | undefined;
  const edgeAuthentication = () => (authentication === undefined ? (authentication = providedOrNull(app, EdgeAuthentication)) : authentication);
  const admitting =
    (edge: EdgeAuthentication, access: RouteAccess | undefined): onRequestHookHandler =>
    (request, _reply, done) => {
      edge.admit(request, access).then(
        () => done(),
        (error: unknown) => done(error as Error),
      );
    };
  const routes: RegisteredRoute[] = [];
  fastify.addHook('onRoute', (route) => {
    // Fastify reads these options after its onRoute hooks: the route's declarations from its
    // config (route-options.ts) become its body limit and its admission; the document and its
    // page are public.
    const config = (route.config ?? {}) as DatarunRouteConfig;
    if (isDocsRoute(route.url)) route.config = { ...config, access: PUBLIC_ACCESS };
    route.bodyLimit = config.bodyLimit ?? http.bodyLimit;
    const access = routeAccessOf(route.config);
    const edge = access && 'public' in access ? null : edgeAuthentication();
    if (edge) route.onRequest = [...[route.onRequest ?? []].flat(), admitting(edge, access)];
    for (const method of [route.method].flat()) routes.push({ method: method.toLowerCase(), url: route.url, access });
  });
  registeredRoutes.set(app, routes);
  const httpMetrics = app.get(HttpMetrics);
  // The request context of every request (matched or not), entered before anything else reads it:
  // the rest of the request (authentication, body, handler, filter) runs inside it. A callback hook, because
  // the context must enclose the continuation, which `done` is; Fastify keeps it across the body.
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    RequestContext.run(request.id, done);
  });
  // An unmatched request is answered 404 before its body is read, as a refused one is.
  fastify.addHook('onRequest', (request, _reply, done) => {
    if (!request.is404) return done();
    done(new Problem('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`));
  });
  fastify.addHook('onResponse', async (request, reply) => {
    httpMetrics.duration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  const document = openApiDocument(app, options);
  SwaggerModule.setup(DOCS_PAGE, app, document, { jsonDocumentUrl: 'openapi.json', yamlDocumentUrl: 'openapi.yaml' });

  await app.init();
  await fastify.ready();
  if (!authentication) {
    // Fail closed: a route that needs a caller in an app that cannot authenticate one.
    const open = routes.find((r) => !(r.access && 'public' in r.access));
    if (open) {
      await app.close();
      throw new Error(`${options.name}: ${open.method.toUpperCase()} ${open.url} needs a caller but the app has no authentication (AuthModule)`);
    }
  }
  return app;
}

function providedOrNull<T>(app: NestFastifyApplication, token: abstract new () => T): T | null {
  try {
    return app.get<T>(token, { strict: false });
  } catch {
    return null;
  }
}

/** Slow and idle clients cannot hold a connection (config section http). */
function applyTimeouts(server: Server, http: HttpConfig): void {
  server.setTimeout(http.connectionTimeoutMs);
  server.requestTimeout = http.requestTimeoutMs;
  server.headersTimeout = http.headersTimeoutMs;
  server.keepAliveTimeout = http.keepAliveTimeoutMs;
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
  servePrimaryMetrics();
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
