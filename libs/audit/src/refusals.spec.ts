// Which refusals a use case records (its scope), and that the record is written after the work
// has settled, carries no more than who, what and the code, and comes back as the auditId.
import { Problem } from '@datarun/problems';
import type { AuditEventInput, AuditLog } from './audit-log.js';
import { auditRefusals } from './refusals.js';

function recorder() {
  const events: AuditEventInput[] = [];
  const log = { append: async (event: AuditEventInput) => (events.push(event), `audit-${events.length}`) } as unknown as AuditLog;
  return { events, log };
}

const caller = { memberId: 'zj.test.hall', actor: 'clerk-1' };

describe('auditRefusals', () => {
  it.each([
    ['authority', 'ROLE_FORBIDDEN', true],
    ['authority', 'NOT_OWNER', true],
    ['authority', 'VALIDATION_FAILED', false],
    ['authority', 'STATE_CONFLICT', false],
    ['any', 'STATE_CONFLICT', true],
    ['any', 'KEY_NOT_FOUND', true],
    ['any', 'VALIDATION_FAILED', true],
    ['any', 'AUDIT_UNAVAILABLE', false],
    ['any', 'SOURCE_UNAVAILABLE', false],
  ] as const)('scope %s, %s: recorded %s', async (scope, code, recorded) => {
    const { events, log } = recorder();
    const refusal = auditRefusals(log, { caller, action: 'grant.approved', object: 'grant:1', scope }, async () => {
      throw new Problem(code, 'refused', { paths: ['/x'] });
    });
    await expect(refusal).rejects.toMatchObject({ code, extensions: recorded ? { paths: ['/x'], auditId: 'audit-1' } : { paths: ['/x'] } });
    expect(events).toEqual(
      recorded ? [{ memberId: caller.memberId, actor: caller.actor, action: 'grant.approved', decision: 'denied', object: 'grant:1', reason: code }] : [],
    );
  });

  it('records nothing for an answer or an error that is not a refusal', async () => {
    const { events, log } = recorder();
    await expect(auditRefusals(log, { caller, action: 'x', scope: 'any' }, async () => 42)).resolves.toBe(42);
    await expect(auditRefusals(log, { caller, action: 'x', scope: 'any' }, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(events).toEqual([]);
  });

  it('appends only after the work has settled (its transaction rolled back)', async () => {
    const order: string[] = [];
    const log = { append: async () => (order.push('append'), 'audit-1') } as unknown as AuditLog;
    await expect(
      auditRefusals(log, { caller, action: 'x', caseId: '6f1c2a3b-1111-4222-8333-944455556666', scope: 'any' }, async () => {
        await new Promise((resolve) => setImmediate(resolve));
        order.push('rolled back');
        throw new Problem('CASE_NOT_FOUND', 'no case');
      }),
    ).rejects.toMatchObject({ code: 'CASE_NOT_FOUND' });
    expect(order).toEqual(['rolled back', 'append']);
  });
});
