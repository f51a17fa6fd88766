import type { PlatformCallSigner } from '@datarun/auth';
import { EgressClient, EgressPolicy, EgressRefused } from '@datarun/egress';
import { Problem } from '@datarun/problems';
import { mintCorrelationId, propagationHeaders, RequestContext } from '@datarun/request-context';
import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { CircuitBreakers, type CircuitState } from './circuit-breaker.js';
import type { FetchContext, FetchedRecord, SourceAdapter, SourceDescriptor } from './source-adapter.js';

export interface FederatedSourceOptions {
  /** Bounds the whole call, retries and body included: a lookup never waits longer for a department. */
  readonly timeoutMs?: number;
  /** Extra attempts after a connection error or a 5xx. */
  readonly retries?: number;
  readonly retryDelayMs?: number;
  /** Consecutive failed calls (timeouts, unavailable, invalid answers) that open a source's circuit. */
  readonly breakerThreshold?: number;
  /** How long an open circuit fails calls at once before one trial call goes through. */
  readonly breakerOpenMs?: number;
  /** Largest answer accepted from a department, in bytes. */
  readonly maxBodyBytes?: number;
  /** The clock of the circuit breakers and of `retrievedAt` (tests move it). */
  readonly now?: () => number;
  /** Where calls may go (EGRESS_ALLOWLIST). Left out, nowhere: a federated call needs a policy. */
  readonly egress?: EgressPolicy;
  /**
   * Signs each call with the platform key, so that a department can refuse callers that are not
   * datarun. Left out, calls go unsigned (tests of the adapter alone); the gateway always has one.
   */
  readonly identity?: PlatformCallSigner;
}

/** Injection token for the options when the adapter comes from Nest's container. */
export const FEDERATED_SOURCE_OPTIONS = Symbol('FEDERATED_SOURCE_OPTIONS');

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A failure worth another attempt: the department may answer the next one. */
class Retryable extends Error {}

/**
 * Calls a department's own endpoint at lookup time (`GET {endpoint}/records/{subject}`), and shows
 * nothing it answers until it passed the source's current schema and is the subject asked for.
 *
 * Problems are worded for the consumer and never carry the department's data: an invalid answer
 * names the source and the schema version, not the offending values (they may be personal data
 * the caller is not granted).
 */
@Injectable()
export class FederatedSourceAdapter implements SourceAdapter, OnApplicationShutdown {
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly retryDelayMs: number;
  private readonly maxBodyBytes: number;
  private readonly now: () => number;
  private readonly breakers: CircuitBreakers;
  private readonly client: EgressClient;
  private readonly identity?: PlatformCallSigner;

  constructor(options: FederatedSourceOptions = {}) {
    const {
      timeoutMs = 2000,
      retries = 1,
      retryDelayMs = 50,
      breakerThreshold = 5,
      breakerOpenMs = 10_000,
      maxBodyBytes = 1_048_576,
      now = Date.now,
      egress = EgressPolicy.denyAll(),
      identity,
    } = options ?? {};
    this.client = new EgressClient(egress);
    this.identity = identity;
    this.timeoutMs = timeoutMs;
    this.retries = retries;
    this.retryDelayMs = retryDelayMs;
    this.maxBodyBytes = maxBodyBytes;
    this.now = now;
    this.breakers = new CircuitBreakers({ threshold: breakerThreshold, openMs: breakerOpenMs, now });
  }

  /** For a readiness indicator: `open` while calls to the source fail at once. */
  circuitState(sourceId: string): CircuitState {
    return this.breakers.state(sourceId);
  }

  async fetch(source: SourceDescriptor, subject: string, context: FetchContext = {}): Promise<FetchedRecord | null> {
    if (!source.endpoint) throw new Problem('SOURCE_UNAVAILABLE', `the federated source ${source.id} has no endpoint registered`);
    const admission = this.breakers.admit(source.id);
    if (!admission.admitted) {
      throw new Problem('SOURCE_UNAVAILABLE', `the department behind ${source.id} is failing; circuit open since ${admission.openSince.toISOString()}`);
    }
    try {
      const data = await this.call(source, source.endpoint, subject, context);
      this.breakers.succeeded(source.id);
      return data === null ? null : { data, retrievedAt: new Date(this.now()), schemaVersion: source.schemaVersion };
    } catch (error) {
      this.breakers.failed(source.id);
      throw error;
    }
  }

  /** Ends the kept-alive connections to departments. */
  onApplicationShutdown(): void {
    this.client.close();
  }

  private async call(source: SourceDescriptor, endpoint: string, subject: string, context: FetchContext): Promise<Record<string, unknown> | null> {
    const path = `/records/${encodeURIComponent(subject)}`;
    // The lookup's correlation id, so the department's logs name the same request as ours.
    // Outside any request (a script, a test) a fresh one: the platform token always names one.
    const correlationId = context.correlationId ?? RequestContext.correlationId() ?? mintCorrelationId();
    const headers: Record<string, string> = { accept: 'application/json', ...propagationHeaders(correlationId) };
    // Bound to this request (`htu`): a token the department logged asks about no one else.
    const url = `${endpoint.replace(/\/+$/, '')}${path}`;
    const token =
      this.identity && context.caller ? this.identity.sign({ audience: source.id, ...context.caller, correlationId, method: 'GET', url }) : undefined;
    if (token) headers.authorization = `Bearer ${token}`;
    const signal = AbortSignal.timeout(this.timeoutMs);
    const timedOut = () => new Problem('SOURCE_TIMEOUT', `the department behind ${source.id} did not answer within ${this.timeoutMs} ms`);

    for (let attempt = 0; ; attempt++) {
      try {
        return await this.attempt(source, endpoint, path, subject, headers, signal);
      } catch (error) {
        if (signal.aborted) throw timedOut();
        if (!(error instanceof Retryable)) throw error;
        if (attempt >= this.retries) throw new Problem('SOURCE_UNAVAILABLE', `the department behind ${source.id} is unavailable (${error.message})`);
        try {
          await sleep(this.retryDelayMs, undefined, { signal });
        } catch {
          throw timedOut();
        }
      }
    }
  }

  private async attempt(
    source: SourceDescriptor,
    endpoint: string,
    path: string,
    subject: string,
    headers: Record<string, string>,
    signal: AbortSignal,
  ): Promise<Record<string, unknown> | null> {
    let response: Response;
    try {
      // Through the egress policy, on every call (an endpoint stored before it, or under a wider
      // list, is refused now) and on the addresses DNS answers; redirects are never followed.
      response = await this.client.fetch(endpoint, path, { headers, signal });
    } catch (error) {
      if (signal.aborted) throw error;
      if (error instanceof Problem && error.code === 'ENDPOINT_NOT_ALLOWED') {
        throw new Problem('SOURCE_UNAVAILABLE', `the endpoint of ${source.id} is outside the egress allowlist; datarun did not call it`);
      }
      if (error instanceof EgressRefused) {
        throw new Problem('SOURCE_UNAVAILABLE', `the endpoint of ${source.id} resolves outside the egress allowlist; datarun did not call it`);
      }
      // Never the error's code or text: which port answered what is a map of the network.
      throw new Retryable('connection failed');
    }
    if (response.status === 404) {
      await response.body?.cancel().catch(() => undefined);
      return null;
    }
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => undefined);
      if (response.status >= 500) throw new Retryable('it answered with a server error');
      // Not the status itself: a refusal does not repeat what the remote said.
      throw new Problem('SOURCE_UNAVAILABLE', `the department behind ${source.id} did not answer with a record`);
    }

    let body: string;
    try {
      body = await this.readCapped(source, response);
    } catch (error) {
      if (error instanceof Problem || signal.aborted) throw error;
      throw new Retryable('connection lost while reading the answer');
    }
    let record: unknown;
    try {
      record = JSON.parse(body);
    } catch {
      throw new Problem('SOURCE_RESPONSE_INVALID', `the department behind ${source.id} answered something that is not JSON`);
    }
    if (!isPlainObject(record)) throw new Problem('SOURCE_RESPONSE_INVALID', `the department behind ${source.id} answered JSON that is not a record object`);
    const verdict = source.validate(record);
    if (!verdict.ok) {
      // Paths only, never values: they name the schema's fields, not the person's data.
      throw new Problem('SOURCE_RESPONSE_INVALID', `the department answered a record that breaks schema version ${source.schemaVersion} of ${source.id}`, {
        paths: verdict.errors.map((e) => e.path),
      });
    }
    if (record[source.subjectKey] !== subject) {
      throw new Problem('SOURCE_RESPONSE_INVALID', `the department behind ${source.id} answered a record of another subject than the one asked for`);
    }
    return record;
  }

  /** Reads the body as UTF-8, refusing it as soon as it passes the cap (a lying content-length too). */
  private async readCapped(source: SourceDescriptor, response: Response): Promise<string> {
    const tooLarge = () => new Problem('SOURCE_RESPONSE_INVALID', `the department behind ${source.id} answered more than ${this.maxBodyBytes} bytes`);
    const declared = Number(response.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > this.maxBodyBytes) {
      await response.body?.cancel().catch(() => undefined);
      throw tooLarge();
    }
    if (!response.body) return '';
    const reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > this.maxBodyBytes) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge();
      }
      chunks.push(value);
    }
    return Buffer.concat(chunks).toString('utf8');
  }
}
