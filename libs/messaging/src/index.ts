export { KafkaMessaging, UnwrittenPartitions } from './kafka-messaging.js';
export type { TopicSpec, ConsumeOptions } from './kafka-messaging.js';
// The Kafka shapes the rest of datarun speaks. Owned here, so that replacing the client (kafkajs
// today; docs/architecture.md, "The Kafka client") changes this lib only: lint keeps kafkajs out
// of every other lib and app.
export type { Admin, Consumer, EachMessagePayload, IHeaders, KafkaMessage, Message } from 'kafkajs';
export { bytesOf, cloudEvent, correlationIdOfMessage, headerBytesOf, toKafkaMessage, fromKafkaMessage, MalformedEvent } from './cloud-event.js';
export type { CloudEvent } from './cloud-event.js';
export { MessagingModule } from './messaging.module.js';
