import { randomUUID } from 'node:crypto';
import { acceptedCorrelationId, mintCorrelationId, RequestContext } from '@datarun/request-context';
import type { IHeaders, Message } from 'kafkajs';

/** A CloudEvents 1.0 event with a JSON body (the only content type datarun produces). */
export interface CloudEvent<T = unknown> {
  readonly specversion: '1.0';
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly time: string;
  readonly subject?: string;
  readonly datacontenttype: 'application/json';
  /** datarun's extension: the correlation id that follows a case across systems. */
  readonly correlationid?: string;
  readonly data: T;
}

/**
 * A new event. Its `correlationid` is the one given, else the request context's: an event produced
 * while handling a request or a consumed message carries that work's id on.
 */
export function cloudEvent<T>(fields: {
  type: string;
  source: string;
  data: T;
  id?: string;
  subject?: string;
  correlationid?: string;
  time?: Date;
}): CloudEvent<T> {
  const correlationid = fields.correlationid ?? RequestContext.correlationId();
  return {
    specversion: '1.0',
    id: fields.id ?? randomUUID(),
    source: fields.source,
    type: fields.type,
    time: (fields.time ?? new Date()).toISOString(),
    datacontenttype: 'application/json',
    ...(fields.subject === undefined ? {} : { subject: fields.subject }),
    ...(correlationid === undefined ? {} : { correlationid }),
    data: fields.data,
  };
}

const ATTRIBUTES = ['id', 'source', 'type', 'specversion', 'time', 'subject', 'correlationid'] as const;

/** Binary content mode: attributes as `ce_` headers, the data alone as the value. */
export function toKafkaMessage(event: CloudEvent, key: string, extraHeaders: Record<string, string> = {}): Message {
  const headers: IHeaders = { 'content-type': event.datacontenttype, ...extraHeaders };
  for (const name of ATTRIBUTES) {
    const value = event[name];
    if (value !== undefined) headers[`ce_${name}`] = value;
  }
  return { key, value: JSON.stringify(event.data), headers };
}

/**
 * The correlation id a consumed message is handled under: its `ce_correlationid` when that is safe
 * to log (anyone on the network can write a header), else a new one, so its log lines and audit
 * records still belong together.
 */
export function correlationIdOfMessage(message: { headers?: IHeaders }): string {
  return acceptedCorrelationId(headerOf(message.headers, 'ce_correlationid')) ?? mintCorrelationId();
}

/** A key, value or header value as bytes (undefined for none). */
export function bytesOf(value: Buffer | string | null | undefined): Buffer | undefined {
  if (value === null || value === undefined) return undefined;
  return Buffer.isBuffer(value) ? value : Buffer.from(value);
}

/** Each header's (first) value as bytes, byte for byte: what a message carries, to keep or to send on. */
export function headerBytesOf(headers: IHeaders): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const [name, raw] of Object.entries(headers)) {
    const value = bytesOf(Array.isArray(raw) ? raw[0] : raw);
    if (value !== undefined) out[name] = value;
  }
  return out;
}

function headerOf(headers: IHeaders | undefined, name: string): string | undefined {
  const raw = headers?.[name];
  const value = Array.isArray(raw) ? raw[0] : raw;
  return value === undefined ? undefined : value.toString();
}

export class MalformedEvent extends Error {
  override name = 'MalformedEvent';
}

/** Reads a binary-mode message back. Throws MalformedEvent when it is not a CloudEvent. */
export function fromKafkaMessage(message: { value: Buffer | null; headers?: IHeaders }): CloudEvent {
  const header = (name: string) => headerOf(message.headers, name);
  const [id, source, type, specversion, time] = ['id', 'source', 'type', 'specversion', 'time'].map((n) => header(`ce_${n}`));
  if (!id || !source || !type || specversion !== '1.0') {
    throw new MalformedEvent('not a CloudEvents 1.0 binary-mode message (ce_id, ce_source, ce_type, ce_specversion=1.0 required)');
  }
  if (message.value === null) throw new MalformedEvent(`event ${id} has no body`);
  let data: unknown;
  try {
    data = JSON.parse(message.value.toString('utf8'));
  } catch {
    throw new MalformedEvent(`event ${id} body is not JSON`);
  }
  const subject = header('ce_subject');
  const correlationid = header('ce_correlationid');
  return {
    specversion: '1.0',
    id,
    source,
    type,
    time: time ?? new Date(0).toISOString(),
    datacontenttype: 'application/json',
    ...(subject === undefined ? {} : { subject }),
    ...(correlationid === undefined ? {} : { correlationid }),
    data,
  };
}
