export { MemberEntity, MEMBER_KINDS, MEMBER_STATES } from './members/member.entity.js';
export type { MemberKind, MemberState, Jwks } from './members/member.entity.js';
export { SourceEntity, SourceVersionEntity, CLASSIFICATIONS } from './sources/source.entity.js';
export type { SourceMode, Classification } from './sources/source.entity.js';
export { GrantEntity, GrantDecisionEntity } from './grants/grant.entity.js';
export type { GrantState, GrantDecisionKind } from './grants/grant.entity.js';
export { MatterEntity, BENEFICIARY_FIELDS } from './matters/matter.entity.js';
export type { MatterNotification, MatterApproval, DeferrableMaterial, BeneficiaryField } from './matters/matter.entity.js';
export { BENEFIT_CODE } from './matters/notifications.js';
export type { NotificationInput } from './matters/notifications.js';
export { REGISTRY_ENTITIES } from './entities.js';
export { RecipientEntity, RECIPIENT_DELIVERIES, RECIPIENT_REQUEST_KINDS, UTILITY_KINDS } from './recipients/recipient.entity.js';
export type { RecipientDelivery, RecipientRequestKind, UtilityKind } from './recipients/recipient.entity.js';
export { RecipientDirectory, isUtilityKind } from './recipients/recipient-directory.js';
export type { Recipient, RecipientSettings } from './recipients/recipient-directory.js';
export { RECIPIENT_MEMBER_KINDS } from './recipients/recipient-settings.js';
export type { RecipientSettingsInput } from './recipients/recipient-settings.js';
export { RegistryModule, AdminKeySeed } from './registry.module.js';
export { MembersService, ADMIN_MEMBER_ID, MEMBER_ID, MEMBER_PAGE } from './members/members.service.js';
export type { RegisterMemberCommand, MemberView, MemberListQuery } from './members/members.service.js';
export { SourcesService, MAX_INGEST_BATCH, SOURCE_ID } from './sources/sources.service.js';
export type {
  RegisterSourceCommand,
  PublishVersionCommand,
  IngestResult,
  SourceView,
  FieldView,
  CurrentSchema,
  CurrentSource,
} from './sources/sources.service.js';
export { GRANT_STATES, GrantsService } from './grants/grants.service.js';
export type { RequestGrantCommand, GrantView, GrantAction } from './grants/grants.service.js';
export { MattersService, MATTER_CODE, DEFAULT_DEFER_DAYS } from './matters/matters.service.js';
export type { RegisterMatterCommand, MatterView, MaterialDeclaration } from './matters/matters.service.js';
export { seedDemoRegistry, loadRecords, PROPERTY_TRANSFER, SUBSISTENCE_ALLOWANCE } from './seed.js';
export type { BuiltInSource, RegistryServices } from './seed.js';
export { MemberKeyDirectory } from './members/member-key-directory.js';
export { RegistryNames } from './registry-names.js';
export { effectiveGrantsSql, effectiveGrantOf } from './grants/effective-grants.js';
export type { EffectiveGrantRow } from './grants/effective-grants.js';
