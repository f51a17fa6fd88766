import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConnectorInbox } from './inbox.js';

const FIRST = '6f1c1c4e-8a43-4e0b-9a55-2b7e0c1a0001';
const SECOND = '6f1c1c4e-8a43-4e0b-9a55-2b7e0c1a0002';

describe('the connector inbox (node:sqlite)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'datarun-inbox-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('knows nothing of a request it has not recorded, and counts no redelivery for it', () => {
    const inbox = new ConnectorInbox(':memory:');
    expect(inbox.redelivered(FIRST)).toBeUndefined();
    expect(inbox.entries()).toEqual([]);
    inbox.close();
  });

  it('answers a redelivery with the recorded outcome, counting each one', () => {
    const inbox = new ConnectorInbox(':memory:');
    inbox.record(FIRST, { state: 'completed', reference: 'W-1' });
    inbox.record(SECOND, { state: 'rejected', reason: 'RECIPIENT_CLOSED: the account is closed' });
    expect(inbox.redelivered(FIRST)).toEqual({ state: 'completed', reference: 'W-1' });
    expect(inbox.redelivered(FIRST)).toEqual({ state: 'completed', reference: 'W-1' });
    expect(inbox.redelivered(SECOND)).toEqual({ state: 'rejected', reason: 'RECIPIENT_CLOSED: the account is closed' });
    expect(inbox.entry(FIRST)).toMatchObject({ requestId: FIRST, redeliveries: 2 });
    expect(inbox.entry(SECOND)).toMatchObject({ requestId: SECOND, redeliveries: 1 });
    inbox.close();
  });

  it('keeps the first outcome of a request recorded twice (a crash between recording and committing)', () => {
    const inbox = new ConnectorInbox(':memory:');
    inbox.record(FIRST, { state: 'completed', reference: 'W-1' });
    inbox.record(FIRST, { state: 'rejected', reason: 'too late' });
    expect(inbox.entries()).toEqual([expect.objectContaining({ requestId: FIRST, outcome: { state: 'completed', reference: 'W-1' }, redeliveries: 0 })]);
    inbox.close();
  });

  it('bounds a reason at the 1000 characters a status may carry', () => {
    const inbox = new ConnectorInbox(':memory:');
    inbox.record(FIRST, { state: 'rejected', reason: 'x'.repeat(5000) });
    expect(inbox.redelivered(FIRST)).toEqual({ state: 'rejected', reason: 'x'.repeat(1000) });
    inbox.close();
  });

  it('survives a restart in its file, made with its folder, and is readable while the connector holds it', () => {
    const path = join(dir, 'connector', 'zj.demo.water.sqlite');
    const inbox = new ConnectorInbox(path);
    inbox.record(FIRST, { state: 'completed', reference: 'W-1' });
    // An operator (or a test) reads the same file while the connector keeps it open.
    const reader = new ConnectorInbox(path);
    expect(reader.entry(FIRST)?.outcome).toEqual({ state: 'completed', reference: 'W-1' });
    reader.close();
    inbox.close();

    const restarted = new ConnectorInbox(path);
    expect(restarted.redelivered(FIRST)).toEqual({ state: 'completed', reference: 'W-1' });
    expect(restarted.entry(FIRST)?.redeliveries).toBe(1);
    restarted.close();
    restarted.close(); // closing twice is harmless (shutdown after a failed start)
  });
});
