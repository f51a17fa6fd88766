// Measures verifyChain's single-core rate on synthetic 300-byte records. Prints, does not
// assert (the machine decides the number). Not part of npm test; default 100,000 records (about two
// seconds); the real measurement is a million:
//   AUDIT_BENCH_RECORDS=1000000 NODE_OPTIONS="--experimental-vm-modules --no-warnings" \
//     npx jest --selectProjects unit --testMatch '<rootDir>/test/bench/audit-chain.bench.spec.ts'
import { GENESIS, chainLink, verifyChain, type ChainRecord } from '@datarun/audit';

const COUNT = Number(process.env.AUDIT_BENCH_RECORDS ?? 100_000);
const RECORD_SIZE = 300;

describe('verifyChain throughput', () => {
  it(`verifies ${COUNT.toLocaleString('en')} records of ${RECORD_SIZE} bytes`, () => {
    // One backing buffer for all record bytes and one for all stored chain hashes, so the
    // measurement is hashing, not allocation.
    const all = Buffer.alloc(COUNT * RECORD_SIZE);
    const hashes = Buffer.alloc(COUNT * 32);
    const records: ChainRecord[] = new Array(COUNT);
    const template = Buffer.from(
      JSON.stringify({
        v: 1,
        seq: 0,
        id: '00000000-0000-7000-8000-000000000000',
        at: '2025-03-01T08:15:30.123Z',
        member: 'zj.longyou.service-hall',
        actor: 'clerk-0042',
        action: 'lookup',
        source: 'civil-affairs.marriage',
        subject: 'f'.repeat(64),
        fields: ['status', 'spouseName'],
        decision: 'allowed',
      }).padEnd(RECORD_SIZE, ' '),
    ).subarray(0, RECORD_SIZE);
    const buildStart = process.hrtime.bigint();
    let previous = GENESIS;
    for (let i = 0; i < COUNT; i++) {
      const bytes = all.subarray(i * RECORD_SIZE, (i + 1) * RECORD_SIZE);
      template.copy(bytes);
      bytes.writeUInt32BE(i + 1, 20); // make every record distinct
      const link = chainLink(previous, bytes);
      const stored = hashes.subarray(i * 32, (i + 1) * 32);
      link.chainHash.copy(stored);
      records[i] = { seq: i + 1, bytes, chainHash: stored };
      previous = link.chainHash;
    }
    const buildMs = Number(process.hrtime.bigint() - buildStart) / 1e6;

    const runs: number[] = [];
    for (let run = 0; run < 3; run++) {
      const start = process.hrtime.bigint();
      const result = verifyChain(records, { seq: 0, chainHash: GENESIS });
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (!result.ok || result.checked !== COUNT) throw new Error('synthetic chain did not verify');
      runs.push(ms);
    }
    const best = Math.min(...runs);
    const rate = Math.round(COUNT / (best / 1000));
    console.log(
      `verifyChain: ${COUNT.toLocaleString('en')} records x ${RECORD_SIZE} B in ` +
        `${runs.map((ms) => ms.toFixed(0)).join(' / ')} ms (best ${best.toFixed(0)} ms) = ` +
        `${rate.toLocaleString('en')} records/s on one core (building the chain took ${buildMs.toFixed(0)} ms)`,
    );
  }, 120_000);
});
