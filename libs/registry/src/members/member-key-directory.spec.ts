import type { DataSource } from 'typeorm';
import { MemberKeyDirectory } from './member-key-directory.js';

/** A member table with nobody in it, counting its reads. */
function emptyTable(): { dataSource: DataSource; reads: string[] } {
  const reads: string[] = [];
  const repository = {
    findOne: async ({ where }: { where: { id: string } }) => {
      reads.push(where.id);
      return null;
    },
  };
  return { dataSource: { getRepository: () => repository } as unknown as DataSource, reads };
}

describe('MemberKeyDirectory', () => {
  it('reads an unknown issuer once per TTL, not once per token', async () => {
    const { dataSource, reads } = emptyTable();
    const directory = new MemberKeyDirectory(dataSource);
    for (let i = 0; i < 5; i += 1) expect(await directory.find('zj.nobody')).toBeUndefined();
    expect(reads).toEqual(['zj.nobody']);
  });

  it(`keeps at most ${MemberKeyDirectory.MAX_ENTRIES} issuers, least recently used out first`, async () => {
    const { dataSource, reads } = emptyTable();
    const directory = new MemberKeyDirectory(dataSource);
    await directory.find('zj.first');
    await directory.find('zj.kept');
    for (let i = 0; i < MemberKeyDirectory.MAX_ENTRIES - 2; i += 1) await directory.find(`zj.stranger-${i}`);
    await directory.find('zj.kept'); // used again: now the most recent
    await directory.find('zj.one-too-many'); // the least recently used, zj.first, goes
    reads.length = 0;
    await directory.find('zj.kept');
    expect(reads).toEqual([]);
    await directory.find('zj.first');
    expect(reads).toEqual(['zj.first']);
  });
});
