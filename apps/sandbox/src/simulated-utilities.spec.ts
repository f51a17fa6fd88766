import { createHash, randomUUID } from 'node:crypto';
import { Problem } from '@datarun/problems';
import { SimulatedUtility, type UtilityApplication } from './simulated-utilities.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const material = (bytes: Buffer, type = 'property-certificate') => ({
  type,
  sha256: sha256(bytes),
  contentType: 'application/pdf',
  size: bytes.length,
  content: bytes.toString('base64'),
});
const application = (materials: UtilityApplication['materials'], accountNumber = 'W-1'): UtilityApplication => ({
  requestId: randomUUID(),
  request: 'transfer',
  accountNumber,
  holder: { name: '王小明', idNumberMasked: '110105********002X' },
  property: { unitNumber: 'U-1', address: '演示市 1 号' },
  effectiveDate: '2026-07-01',
  materials,
});
describe('a simulated utility receives the documents', () => {
  const deed = Buffer.from('%PDF-1.7 the deed');

  it('keeps the SHA-256 it computed and the size, lists no bytes, and gives the bytes back', async () => {
    const water = new SimulatedUtility('water');
    const a = application([material(deed)]);
    await water.apply(a);
    const received = { type: 'property-certificate', contentType: 'application/pdf', size: deed.length, sha256: sha256(deed) };
    expect(water.requests()[0].materials).toEqual([received]);
    expect(water.account('W-1').materials).toEqual([{ requestId: a.requestId, ...received }]);
    expect(JSON.stringify([water.requests(), water.account('W-1')])).not.toContain(deed.toString('base64'));
    expect(water.material(a.requestId, 'property-certificate').bytes.equals(deed)).toBe(true);
  });

  it.each([
    ['bytes of another SHA-256', { content: Buffer.from('%PDF-1.7 the dead').toString('base64') }, 'MATERIAL_HASH_MISMATCH'],
    ['a size that is not the bytes', { size: deed.length + 1 }, 'VALIDATION_FAILED'],
    ['content that is not base64', { content: `${deed.toString('base64')}!` }, 'VALIDATION_FAILED'],
  ])('refuses %s and applies nothing', async (_what, change, code) => {
    const water = new SimulatedUtility('water');
    await expect(water.apply(application([{ ...material(deed), ...change }]))).rejects.toMatchObject({ code });
    expect(water.requests()).toHaveLength(0);
    expect(() => water.account('W-1')).toThrow(Problem);
  });

  it('drops the oldest bytes kept beyond 64 MiB, but still lists what it received', async () => {
    const water = new SimulatedUtility('water');
    const big = (fill: number) => Buffer.alloc(10 * 1024 * 1024, fill);
    const ids: string[] = [];
    for (let i = 0; i < 7; i += 1) {
      const a = application([material(big(i))], `W-${i}`);
      ids.push(a.requestId);
      await water.apply(a);
    }
    expect(() => water.material(ids[0], 'property-certificate')).toThrow(Problem);
    expect(water.material(ids[6], 'property-certificate').bytes.equals(big(6))).toBe(true);
    expect(water.requests()[0].materials[0].sha256).toBe(sha256(big(0)));
  });
});
