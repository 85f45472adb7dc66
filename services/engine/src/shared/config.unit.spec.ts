import { ConfigInvalid, loadConfig } from './config';

describe('Kafka configuration', () => {
  it('creates topics with 12 partitions and the broker-default replication, and publishes uncompressed, by default', () => {
    const { kafka } = loadConfig({});
    expect(kafka.topicSettings).toEqual({ partitions: 12, replicationFactor: -1, create: true });
    expect(kafka.compression).toBe('none');
  });

  it('reads the partitions, replication, creation and compression settings', () => {
    const { kafka } = loadConfig({
      KAFKA_TOPIC_PARTITIONS: '24',
      KAFKA_REPLICATION_FACTOR: '3',
      KAFKA_CREATE_TOPICS: 'false',
      KAFKA_COMPRESSION: 'lz4',
    });
    expect(kafka.topicSettings).toEqual({ partitions: 24, replicationFactor: 3, create: false });
    expect(kafka.compression).toBe('lz4');
  });

  it.each([
    [{ KAFKA_TOPIC_PARTITIONS: '0' }, /KAFKA_TOPIC_PARTITIONS must be a whole number of at least 1, not 0/],
    [{ KAFKA_TOPIC_PARTITIONS: 'twelve' }, /KAFKA_TOPIC_PARTITIONS/],
    [{ KAFKA_REPLICATION_FACTOR: '0' }, /KAFKA_REPLICATION_FACTOR must be a whole number of at least 1 \(or -1/],
    [{ KAFKA_REPLICATION_FACTOR: '1.5' }, /KAFKA_REPLICATION_FACTOR/],
    [{ KAFKA_CREATE_TOPICS: 'yes' }, /KAFKA_CREATE_TOPICS must be true or false, not yes/],
    [{ KAFKA_COMPRESSION: 'zstd' }, /KAFKA_COMPRESSION must be one of none, gzip, snappy, lz4, not zstd/],
  ])('refuses %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigInvalid);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
