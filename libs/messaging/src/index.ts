export { KafkaMessaging } from './kafka-messaging.js';
export type { TopicSpec, ConsumeOptions } from './kafka-messaging.js';
export { cloudEvent, correlationIdOfMessage, toKafkaMessage, fromKafkaMessage, MalformedEvent } from './cloud-event.js';
export type { CloudEvent } from './cloud-event.js';
export { MessagingModule } from './messaging.module.js';
