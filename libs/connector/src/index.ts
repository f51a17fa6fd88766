export { Connector, CONNECTOR_OPTIONS, requestsOf, retryDelayMs } from './connector.js';
export type { ConnectorOptions } from './connector.js';
export { ConnectorInbox } from './inbox.js';
export type { DeferredRequest, HeldMessage, InboxEntry, OrderMark, Outcome, RequestOrder } from './inbox.js';
export { MemberTokens, MEMBER_TOKEN_LIFETIME_SEC, MEMBER_TOKEN_RENEW_BEFORE_SEC } from './member-tokens.js';
export { applicationOf, HttpRecipientSystem, RECIPIENT_SYSTEM, RecipientRefusal, TransientFailure } from './recipient-system.js';
export type { ReceivedMaterial, RecipientSystem } from './recipient-system.js';
