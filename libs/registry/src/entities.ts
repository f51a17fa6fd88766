import { GrantDecisionEntity, GrantEntity } from './grants/grant.entity.js';
import { MatterEntity } from './matters/matter.entity.js';
import { MemberEntity } from './members/member.entity.js';
import { SourceEntity, SourceRecordEntity, SourceVersionEntity } from './sources/source.entity.js';

export const REGISTRY_ENTITIES = [MemberEntity, SourceEntity, SourceVersionEntity, SourceRecordEntity, GrantEntity, GrantDecisionEntity, MatterEntity];
