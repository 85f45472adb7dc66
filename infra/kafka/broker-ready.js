// Exits 0 when the broker at argv[2] answers a metadata request (the port alone opens before the broker is ready).
const { Kafka, logLevel } = require('kafkajs');

const broker = process.argv[2] || '127.0.0.1:9092';
const admin = new Kafka({
  clientId: 'lifeline-broker-ready',
  brokers: [broker],
  logLevel: logLevel.NOTHING,
  retry: { retries: 0 },
  connectionTimeout: 2000,
  requestTimeout: 5000,
}).admin();

admin
  .connect()
  .then(() => admin.describeCluster())
  .then((cluster) => (cluster.brokers.length > 0 ? 0 : 1))
  .catch(() => 1)
  .then(async (code) => {
    await admin.disconnect().catch(() => undefined);
    process.exit(code);
  });
