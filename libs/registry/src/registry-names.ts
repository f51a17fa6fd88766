import { AuditNames, type NamedIds, type Names } from '@datarun/audit';
import { Injectable } from '@nestjs/common';
import { DataSource, In } from 'typeorm';
import { MatterEntity } from './matters/matter.entity.js';
import { MemberEntity } from './members/member.entity.js';
import { SourceEntity } from './sources/source.entity.js';

/**
 * The registry's names port: as audit's `AuditNames`, members' names, sources' and matters' titles
 * for the citizen's access log; `membersNamed`, the registered names of a case's recipients.
 */
@Injectable()
export class RegistryNames extends AuditNames {
  constructor(private readonly dataSource: DataSource) {
    super();
  }

  /** The registered name of each of `ids` that is a member (one query; an unknown id is left out). */
  async membersNamed(ids: readonly string[]): Promise<ReadonlyMap<string, string>> {
    const members = ids.length ? await this.dataSource.getRepository(MemberEntity).find({ select: { id: true, name: true }, where: { id: In([...ids]) } }) : [];
    return new Map(members.map((m) => [m.id, m.name]));
  }

  async namesOf(ids: NamedIds): Promise<Names> {
    const [members, sources, matters] = await Promise.all([
      this.membersNamed(ids.members),
      ids.sources.length ? this.dataSource.getRepository(SourceEntity).find({ select: { id: true, title: true }, where: { id: In([...ids.sources]) } }) : [],
      ids.matters.length
        ? this.dataSource.getRepository(MatterEntity).find({ select: { code: true, title: true }, where: { code: In([...ids.matters]) } })
        : [],
    ]);
    return {
      members,
      sources: new Map(sources.map((s) => [s.id, s.title])),
      matters: new Map(matters.map((m) => [m.code, m.title])),
    };
  }
}
