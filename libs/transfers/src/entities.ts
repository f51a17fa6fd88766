import { DeadLetterEntity } from './ops/dead-letter.entity.js';
import { TransferRequestEntity } from './outbox/transfer-request.entity.js';
import { RecordVersionEntity } from './relay/record-version.entity.js';
import { RelayLeaseEntity } from './relay/relay-lease.entity.js';

/** The transfers lib's tables: transfer_request (the outbox), dead_letter, record_version, relay_lease. */
export const TRANSFERS_ENTITIES = [TransferRequestEntity, DeadLetterEntity, RecordVersionEntity, RelayLeaseEntity];
