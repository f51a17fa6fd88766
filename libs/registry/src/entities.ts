import { GrantDecisionEntity, GrantEntity } from './grants/grant.entity.js';
import { MatterEntity } from './matters/matter.entity.js';
import { MemberEntity } from './members/member.entity.js';
import { RecipientEntity } from './recipients/recipient.entity.js';
import { SourceEntity, SourceVersionEntity } from './sources/source.entity.js';

/** The registry's tables: member, source, source_version, access_grant, grant_decision, matter, recipient. */
export const REGISTRY_ENTITIES = [MemberEntity, SourceEntity, SourceVersionEntity, GrantEntity, GrantDecisionEntity, MatterEntity, RecipientEntity];
