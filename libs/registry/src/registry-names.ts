import { AuditNames, type NamedIds, type Names } from '@datarun/audit';
import { Injectable } from '@nestjs/common';
import { DataSource, In } from 'typeorm';
import { MatterEntity } from './matters/matter.entity.js';
import { MemberEntity } from './members/member.entity.js';
import { SourceEntity } from './sources/source.entity.js';

/** The registry's side of `AuditNames`: members' names, sources' and matters' titles for the citizen's access log. */
@Injectable()
export class RegistryNames extends AuditNames {
  constructor(private readonly dataSource: DataSource) {
    super();
  }

  async namesOf(ids: NamedIds): Promise<Names> {
    const [members, sources, matters] = await Promise.all([
      ids.members.length ? this.dataSource.getRepository(MemberEntity).find({ select: { id: true, name: true }, where: { id: In([...ids.members]) } }) : [],
      ids.sources.length ? this.dataSource.getRepository(SourceEntity).find({ select: { id: true, title: true }, where: { id: In([...ids.sources]) } }) : [],
      ids.matters.length
        ? this.dataSource.getRepository(MatterEntity).find({ select: { code: true, title: true }, where: { code: In([...ids.matters]) } })
        : [],
    ]);
    return {
      members: new Map(members.map((m) => [m.id, m.name])),
      sources: new Map(sources.map((s) => [s.id, s.title])),
      matters: new Map(matters.map((m) => [m.code, m.title])),
    };
  }
}
