// Kafka test helpers other libraries and tests use (`@lifeline/entity-events/testing`).
export * from '../kafka/testing/broker';
export * from '../kafka/testing/wait-for';
