export {
  STATUS_TOPIC,
  DEAD_LETTER_TOPIC,
  RECORDS_TOPIC,
  REQUEST_KINDS,
  requestTopic,
  recipientTopic,
  recordsTopic,
  topicFor,
  topicsOf,
  topicSpec,
} from './topics.js';
export type { RequestKind, RecipientRoute } from './topics.js';
export { EVENT_TYPES, assertEventBody, orderOf, requestOf, utilityRequestOf, transferStatusOf, statusEvent } from './events.js';
export type {
  TransferRequested,
  DiscountRequested,
  BenefitRequested,
  RecipientRequest,
  UtilityRequest,
  UtilityState,
  TransferStatus,
  MaterialClaim,
  MaskedHolder,
} from './events.js';
export { isMaterialLinkOf, MaterialLinks, materialLinksOf } from './material-links.js';
export type { MaterialLinkClaims } from './material-links.js';
export {
  deadLetter,
  sealedDeadLetter,
  sealedBytes,
  platformSealer,
  platformSealKey,
  memberSealer,
  withoutDlqHeaders,
  headerText,
  DLQ_HEADERS,
  PLATFORM_SEAL_KID,
} from './dead-letters.js';
export type { OriginalMessage, DeadLetterSealer } from './dead-letters.js';
export { DeadLetterSeal } from './ops/dead-letter-seal.js';
export type { SealVerdict } from './ops/dead-letter-seal.js';
export { RequestStatuses } from './statuses/request-statuses.js';
export type { EstablishedStatus, RequestAddressee, StatusEffect } from './statuses/request-statuses.js';
export { RecipientRequests, REQUEST_PAGE, SENT_STATES } from './statuses/recipient-requests.js';
export type { RecipientRequestQuery, RecipientRequestView, StatusReport } from './statuses/recipient-requests.js';
export { planRequests, maskIdNumber, effectiveDateOf, disclosedFields, disclosedParties } from './transfer-requests.js';
export type { CompletingCase, RoutedNotification, UploadedMaterial, PlannedRequest, PlanningIds } from './transfer-requests.js';
export { UtilityTopics } from './relay/utility-topics.js';
export { OutboxRelay, RELAY_SOURCE } from './relay/outbox-relay.js';
export { LeaseLost, RelayLease } from './relay/relay-lease.js';
export type { LeaseConnection } from './relay/relay-lease.js';
export { StatusConsumer, RELAY_STATUS_GROUP, STATUS_SIGNATURE_INVALID } from './relay/status-consumer.js';
export { DeadLetterRecorder, RELAY_DEAD_LETTER_GROUP } from './ops/dead-letter-recorder.js';
export { DeadLettersService, DEFAULT_DEAD_LETTER_LIMIT, MAX_DEAD_LETTER_LIMIT } from './ops/dead-letters.service.js';
export type { DeadLetterQuery, DeadLetterView, DeadLetterPage } from './ops/dead-letters.service.js';
export { ConsumerLag, CONSUMER_LAG_METRIC } from './ops/consumer-lag.js';
export type { LagSubscription, ConsumerLagOptions } from './ops/consumer-lag.js';
export { RelayGauges } from './ops/relay-gauges.js';
export {
  SIGNATURE_HEADER,
  BOUND,
  MAX_CLOCK_SKEW_MS,
  RECORD_EVENT_TYPE,
  signEvent,
  verifyEventSignature,
  signedEventMessage,
  signedRecordMessage,
} from './signed-event.js';
export type { SignatureCheck, EventBinding, EventSigner, EventToPublish, RecordToPublish } from './signed-event.js';
export { RecordIngest, RELAY_RECORDS_GROUP } from './relay/record-ingest.js';
export { APPLICATION_BODY_LIMIT, APPLIED_MATERIAL_MAX_BYTES, APPLIED_MATERIALS_MAX } from './applied-materials.js';
export { TransferRequestEntity } from './outbox/transfer-request.entity.js';
export type { TransferState } from './outbox/transfer-request.entity.js';
export { DeadLetterEntity } from './ops/dead-letter.entity.js';
export { RecordVersionEntity } from './relay/record-version.entity.js';
export { RelayLeaseEntity } from './relay/relay-lease.entity.js';
export { OutboxWriter } from './outbox/outbox-writer.js';
export { CaseTransfers } from './outbox/case-transfers.js';
export type { CaseTransfer } from './outbox/case-transfers.js';
export { CaseMatters } from './outbox/case-matters.js';
export type { CaseParty } from './outbox/case-matters.js';
export { TRANSFERS_ENTITIES } from './entities.js';
export { WebhookDelivery, WEBHOOK_SIGNING_KEY, webhookGroupOf, structuredEvent } from './webhooks/webhook-delivery.js';
export { CLOUDEVENTS_JSON, signWebhook, verifyWebhookSignature, webhookBinding } from './webhooks/webhook-signature.js';
export { WEBHOOK_BACKOFF, backoffMs, outcomeOfError, outcomeOfStatus, withRetries } from './webhooks/webhook-retries.js';
export type { AttemptOutcome, DeliveryVerdict, RetryClock, RetryPolicy } from './webhooks/webhook-retries.js';
