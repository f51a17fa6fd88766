// The answers of the relay's operations API, as JSON Schemas of what the transfers lib returns
// (DeadLetterView, DeadLetterPage): published in the OpenAPI document and checked against real
// answers by the e2e tests. A `title` names a component of the document.
import { closedObject, COUNT, DATE_TIME, nullable, STRING, UUID } from '@datarun/platform';

export const DEAD_LETTER = closedObject(
  {
    id: UUID,
    topic: {
      ...STRING,
      description: "The original topic, where a replay publishes to, as the dead letter's seal records it; for a planted one, only what the message claims",
    },
    key: nullable(STRING),
    reason: { ...STRING, description: 'Why it was given up, e.g. STATUS_SIGNATURE_INVALID' },
    by: {
      ...STRING,
      description: 'Which process gave it up, e.g. relay or datarun.connector.zj.demo.water',
      examples: ['relay', 'datarun.connector.zj.demo.water'],
    },
    at: DATE_TIME,
    replays: COUNT,
    replayedAt: nullable(DATE_TIME),
    planted: {
      type: 'boolean',
      description: 'Not sealed by datarun or by the connector of its topic’s recipient: someone else put it on the dead-letter topic; it is never replayed',
    },
    sealedBy: nullable({
      ...STRING,
      description: 'Who sealed it: datarun, or the member whose connector dead-lettered it; null when planted',
      examples: ['datarun'],
    }),
    plantedReason: nullable({ ...STRING, description: 'Why it counts as planted; null when sealed' }),
    headers: { type: 'object', additionalProperties: STRING, description: 'The original headers, without the datarun-dlq-* ones' },
    value: nullable({ ...STRING, description: 'The original value: as text when it is UTF-8 JSON, otherwise base64' }),
    valueEncoding: nullable({ enum: ['json', 'base64'] }),
  },
  {},
  { title: 'DeadLetter' },
);

export const DEAD_LETTER_PAGE = closedObject(
  {
    items: { type: 'array', items: DEAD_LETTER },
    next: nullable({ ...STRING, description: 'Pass as `cursor` for the next (older) page; null on the last page' }),
  },
  {},
  { title: 'DeadLetterPage' },
);
