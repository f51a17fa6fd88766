import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { ConnectorInbox } from './inbox.js';

const FIRST = '6f1c1c4e-8a43-4e0b-9a55-2b7e0c1a0001';
const SECOND = '6f1c1c4e-8a43-4e0b-9a55-2b7e0c1a0002';
/** The correlation ids of a request's first send and of its resend from the case. */
const SEND = 'corr-first-send';
const RESEND = 'corr-resend';

describe('the connector inbox (node:sqlite)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'datarun-inbox-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('knows nothing of a request it has not recorded, and counts no redelivery for it', () => {
    const inbox = new ConnectorInbox(':memory:');
    expect(inbox.redelivered(FIRST, SEND)).toBeUndefined();
    expect(inbox.entries()).toEqual([]);
    inbox.close();
  });

  it('answers a redelivery with the recorded outcome, counting each one', () => {
    const inbox = new ConnectorInbox(':memory:');
    inbox.record(FIRST, { state: 'completed', reference: 'W-1' }, SEND);
    inbox.record(SECOND, { state: 'rejected', reason: 'RECIPIENT_CLOSED: the account is closed' }, SEND);
    expect(inbox.redelivered(FIRST, SEND)).toEqual({ state: 'completed', reference: 'W-1' });
    expect(inbox.redelivered(FIRST, SEND)).toEqual({ state: 'completed', reference: 'W-1' });
    expect(inbox.redelivered(SECOND, SEND)).toEqual({ state: 'rejected', reason: 'RECIPIENT_CLOSED: the account is closed' });
    expect(inbox.entry(FIRST)).toMatchObject({ requestId: FIRST, redeliveries: 2 });
    expect(inbox.entry(SECOND)).toMatchObject({ requestId: SECOND, redeliveries: 1 });
    inbox.close();
  });

  it('keeps the first outcome of a request recorded twice (a crash between recording and committing)', () => {
    const inbox = new ConnectorInbox(':memory:');
    inbox.record(FIRST, { state: 'completed', reference: 'W-1' }, SEND);
    inbox.record(FIRST, { state: 'rejected', reason: 'too late' }, SEND);
    expect(inbox.entries()).toEqual([expect.objectContaining({ requestId: FIRST, outcome: { state: 'completed', reference: 'W-1' }, redeliveries: 0 })]);
    inbox.close();
  });

  it('answers a rejection to its own send only: a resend is applied again and its outcome replaces the rejection', () => {
    const inbox = new ConnectorInbox(':memory:');
    inbox.record(FIRST, { state: 'rejected', reason: 'STATE_CONFLICT: account CLOSED-1 is closed' }, SEND);
    expect(inbox.redelivered(FIRST, SEND)).toEqual({ state: 'rejected', reason: 'STATE_CONFLICT: account CLOSED-1 is closed' });
    expect(inbox.redelivered(FIRST, RESEND)).toBeUndefined();
    inbox.record(FIRST, { state: 'completed', reference: 'W-2' }, RESEND);
    expect(inbox.entry(FIRST)).toMatchObject({ outcome: { state: 'completed', reference: 'W-2' }, send: RESEND, redeliveries: 0 });
    // Completed is final, whichever send comes again.
    expect(inbox.redelivered(FIRST, SEND)).toEqual({ state: 'completed', reference: 'W-2' });
    expect(inbox.redelivered(FIRST, 'corr-third')).toEqual({ state: 'completed', reference: 'W-2' });
    expect(inbox.redelivered(FIRST, null)).toEqual({ state: 'completed', reference: 'W-2' });
    inbox.close();
  });

  it('takes an inbox file written before sends were told apart', () => {
    const path = join(dir, 'old.sqlite');
    const old = new DatabaseSync(path);
    old.exec(`CREATE TABLE inbox (request_id TEXT PRIMARY KEY, outcome TEXT NOT NULL CHECK (outcome IN ('completed', 'rejected')), reference TEXT,
      reason TEXT, redeliveries INTEGER NOT NULL DEFAULT 0, processed_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))) STRICT`);
    old.prepare(`INSERT INTO inbox (request_id, outcome, reference) VALUES (?, 'completed', 'W-1')`).run(FIRST);
    old.prepare(`INSERT INTO inbox (request_id, outcome, reason) VALUES (?, 'rejected', 'closed')`).run(SECOND);
    old.close();
    const inbox = new ConnectorInbox(path);
    expect(inbox.redelivered(FIRST, SEND)).toEqual({ state: 'completed', reference: 'W-1' });
    expect(inbox.redelivered(SECOND, SEND)).toBeUndefined();
    // It takes the outcome its CHECK did not know, and keeps what it held.
    inbox.record(SECOND, { state: 'superseded', reason: 'a newer request was applied first' }, RESEND);
    expect(inbox.redelivered(SECOND, RESEND)).toEqual({ state: 'superseded', reason: 'a newer request was applied first' });
    expect(inbox.entry(FIRST)).toMatchObject({ outcome: { state: 'completed', reference: 'W-1' }, redeliveries: 1 });
    inbox.close();
    // Opened again, it is already up to date.
    const again = new ConnectorInbox(path);
    expect(again.entries().map((e) => e.outcome.state)).toEqual(['completed', 'superseded']);
    again.close();
  });

  it('holds a failed request with its message until it is settled; a resend starts its count again', () => {
    const inbox = new ConnectorInbox(join(dir, 'deferred.sqlite'));
    const message = { topic: 't', key: Buffer.from('UNIT-1'), value: Buffer.from('{"a":1}'), headers: { ce_id: Buffer.from(FIRST) } };
    const soon = new Date(Date.now() + 60_000);
    inbox.defer(FIRST, SEND, message, 'answered 503', soon);
    inbox.defer(FIRST, SEND, message, 'answered 504', soon);
    expect(inbox.deferred(FIRST)).toMatchObject({ attempts: 2, lastError: 'answered 504', message, parkedAt: null });
    expect(inbox.holds(FIRST, SEND)).toBe(true);
    expect(inbox.holds(FIRST, RESEND)).toBe(false);
    expect(inbox.due()).toEqual([]);
    expect(inbox.due(new Date(soon.getTime() + 1)).map((d) => d.requestId)).toEqual([FIRST]);
    inbox.defer(FIRST, RESEND, message, 'answered 503', soon);
    expect(inbox.deferred(FIRST)).toMatchObject({ attempts: 1, send: RESEND });
    inbox.park(FIRST, 'still 503');
    expect(inbox.due(new Date(soon.getTime() + 1))).toEqual([]);
    expect(inbox.deferredCounts()).toEqual({ retrying: 0, parked: 1 });
    expect(inbox.resume()).toEqual([FIRST]);
    expect(inbox.deferredCounts()).toEqual({ retrying: 1, parked: 0 });
    inbox.record(FIRST, { state: 'completed', reference: 'W-1' }, RESEND, { key: 'property:UNIT-1', sequence: 12 });
    expect(inbox.deferred(FIRST)).toBeUndefined();
    expect(inbox.orderMark('property:UNIT-1')).toEqual({ sequence: 12, requestId: FIRST });
    // An older request recorded later does not move the mark back.
    inbox.record(SECOND, { state: 'completed', reference: 'W-0' }, SEND, { key: 'property:UNIT-1', sequence: 10 });
    expect(inbox.orderMark('property:UNIT-1')).toEqual({ sequence: 12, requestId: FIRST });
    inbox.close();
  });

  it('bounds a reason at the 1000 characters a status may carry', () => {
    const inbox = new ConnectorInbox(':memory:');
    inbox.record(FIRST, { state: 'rejected', reason: 'x'.repeat(5000) }, SEND);
    expect(inbox.redelivered(FIRST, SEND)).toEqual({ state: 'rejected', reason: 'x'.repeat(1000) });
    inbox.close();
  });

  it('survives a restart in its file, made with its folder, and is readable while the connector holds it', () => {
    const path = join(dir, 'connector', 'zj.demo.water.sqlite');
    const inbox = new ConnectorInbox(path);
    inbox.record(FIRST, { state: 'completed', reference: 'W-1' }, SEND);
    // An operator (or a test) reads the same file while the connector keeps it open.
    const reader = new ConnectorInbox(path);
    expect(reader.entry(FIRST)?.outcome).toEqual({ state: 'completed', reference: 'W-1' });
    reader.close();
    inbox.close();

    const restarted = new ConnectorInbox(path);
    expect(restarted.redelivered(FIRST, SEND)).toEqual({ state: 'completed', reference: 'W-1' });
    expect(restarted.entry(FIRST)?.redeliveries).toBe(1);
    restarted.close();
    restarted.close(); // closing twice is harmless (shutdown after a failed start)
  });
});
