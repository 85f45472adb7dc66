export * from './logger';
export * from './kafka/dead-letters';
export * from './kafka/kafka-entity-source';
export * from './outbound/outbound-publisher';
export * from './outbound/kafka-outbound-publisher';
export * from './outbound/to-outbound-messages';
export * from './outbound/checkpoint-store';
export * from './outbound/outbox-relay';
