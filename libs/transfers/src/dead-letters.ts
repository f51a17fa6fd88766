import type { IHeaders, Message } from 'kafkajs';

/** Headers a dead letter carries besides the original message's own (schemas/events/README.md). */
export const DLQ_HEADERS = { topic: 'datarun-dlq-topic', reason: 'datarun-dlq-reason', by: 'datarun-dlq-by', at: 'datarun-dlq-at' } as const;

export interface OriginalMessage {
  readonly topic: string;
  readonly key: Buffer | string | null;
  readonly value: Buffer | null;
  readonly headers?: IHeaders;
}

/** The original message byte for byte, with where it came from, why and by whom it was given up. */
export function deadLetter(original: OriginalMessage, reason: string, by: string, at = new Date()): Message {
  return {
    key: original.key,
    value: original.value,
    headers: {
      ...withoutDlqHeaders(original.headers),
      [DLQ_HEADERS.topic]: original.topic,
      [DLQ_HEADERS.reason]: reason.slice(0, 2000),
      [DLQ_HEADERS.by]: by,
      [DLQ_HEADERS.at]: at.toISOString(),
    },
  };
}

/** The original headers again (for replay), as strings. */
export function withoutDlqHeaders(headers: IHeaders | undefined): Record<string, string> {
  const dlq = new Set<string>(Object.values(DLQ_HEADERS));
  const out: Record<string, string> = {};
  for (const [name, raw] of Object.entries(headers ?? {})) {
    if (dlq.has(name) || raw === undefined) continue;
    const value = Array.isArray(raw) ? raw[0] : raw;
    if (value !== undefined) out[name] = value.toString();
  }
  return out;
}

export function headerText(headers: IHeaders | undefined, name: string): string | undefined {
  const raw = headers?.[name];
  const value = Array.isArray(raw) ? raw[0] : raw;
  return value === undefined ? undefined : value.toString();
}
