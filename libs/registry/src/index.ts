export { MemberEntity, MEMBER_KINDS } from './members/member.entity.js';
export type { MemberKind, Jwks } from './members/member.entity.js';
