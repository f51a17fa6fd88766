import { createHash, randomUUID } from 'node:crypto';
import { Problem } from '@datarun/problems';
import { type BenefitApplication, SimulatedRegister, SimulatedRegisters } from './simulated-registers.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const decisionPdf = Buffer.from('%PDF-1.7 低保 decision');
const material = (bytes: Buffer) => ({
  type: 'allowance-decision',
  sha256: sha256(bytes),
  contentType: 'application/pdf',
  size: bytes.length,
  content: bytes.toString('base64'),
});
const application = (over: Partial<BenefitApplication> = {}): BenefitApplication => ({
  requestId: randomUUID(),
  request: 'benefit',
  benefit: 'pension-insurance-subsidy',
  beneficiary: { name: '李娜', idNumberMasked: '330802********2021', idNumber: '330802199001012021' },
  decision: { matter: 'subsistence-allowance', decidedAt: '2026-12-07T03:00:00.000Z', validFrom: '2026-12-07' },
  materials: [material(decisionPdf)],
  ...over,
});

describe("a department's simulated beneficiary register", () => {
  it('records the benefit with the beneficiary as received, keeps the documents it checked, and gives the bytes back', async () => {
    const renshe = new SimulatedRegister('zj.demo.renshe');
    const a = application();
    const { reference, duplicate } = await renshe.apply(a);
    expect(duplicate).toBe(false);
    expect(renshe.requests()).toEqual([
      expect.objectContaining({
        requestId: a.requestId,
        request: 'benefit',
        benefit: 'pension-insurance-subsidy',
        beneficiary: a.beneficiary,
        decision: a.decision,
        reference,
        calls: 1,
        materials: [{ type: 'allowance-decision', contentType: 'application/pdf', size: decisionPdf.length, sha256: sha256(decisionPdf) }],
      }),
    ]);
    expect(JSON.stringify(renshe.requests())).not.toContain(decisionPdf.toString('base64'));
    expect(renshe.material(a.requestId, 'allowance-decision').bytes.equals(decisionPdf)).toBe(true);
    expect(renshe.summary()).toEqual({ member: 'zj.demo.renshe', beneficiaries: 1, applied: 1, available: true });
  });

  it('is idempotent by request id: the first reference again, nothing applied twice', async () => {
    const jiaoyu = new SimulatedRegister('zj.demo.jiaoyu');
    const a = application({ benefit: 'education-aid' });
    const first = await jiaoyu.apply(a);
    expect(await jiaoyu.apply(a)).toEqual({ reference: first.reference, duplicate: true });
    expect(jiaoyu.referenceOf(a.requestId)).toBe(first.reference);
    expect(jiaoyu.requests()).toHaveLength(1);
    expect(jiaoyu.requests()[0].calls).toBe(2);
  });

  it.each([
    ['bytes of another SHA-256', { content: Buffer.from('%PDF-1.7 低保 decisioN').toString('base64') }, 'MATERIAL_HASH_MISMATCH'],
    ['a size that is not the bytes', { size: decisionPdf.length + 1 }, 'VALIDATION_FAILED'],
    ['content that is not base64', { content: '***' }, 'VALIDATION_FAILED'],
  ])('refuses %s and records nothing (the utilities’ own check)', async (_what, change, code) => {
    const canlian = new SimulatedRegister('zj.demo.canlian');
    await expect(canlian.apply(application({ materials: [{ ...material(decisionPdf), ...change }] }))).rejects.toMatchObject({ code });
    expect(canlian.requests()).toHaveLength(0);
    expect(canlian.summary().beneficiaries).toBe(0);
  });

  it('answers 503 during an outage, and one register per member', async () => {
    const registers = new SimulatedRegisters();
    registers.of('zj.demo.renshe').outage(60);
    await expect(registers.of('zj.demo.renshe').apply(application())).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect(() => registers.of('zj.demo.renshe').summary()).toThrow(Problem);
    expect(registers.of('zj.demo.jiaoyu').summary().available).toBe(true);
    expect(() => registers.of('Not A Member')).toThrow(Problem);
  });
});
