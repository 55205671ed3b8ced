/* global Buffer, setTimeout */
// A small service wired the way the README says: telemetry, an instrumented kafkajs consumer and
// producer, an instrumented amqplib consumer, and the README's SIGTERM handler (between the
// markers below; shutdown.test.ts checks that the README and docs/instrumentation.md show
// exactly these lines). It prints "ready" once a message crossed each broker.

// ---- Test plumbing: run the TypeScript sources, as Jest's moduleNameMapper does. ----
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const Module = require('node:module');
const ts = require('typescript');

const root = join(__dirname, '..', '..', '..');
require.extensions['.ts'] = (module, filename) => {
  const compilerOptions = { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true };
  module._compile(ts.transpileModule(readFileSync(filename, 'utf8'), { compilerOptions, fileName: filename }).outputText, filename);
};
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  const workspace = /^@eda-harness\/([a-z-]+)$/.exec(request);
  return resolveFilename.call(this, workspace ? join(root, workspace[1], 'index.ts') : request, ...rest);
};

// ---- The service. ----
const { Kafka, logLevel } = require('kafkajs');
const amqplib = require('amqplib');
const { instrumentAmqp, instrumentKafka, startTelemetry } = require('@eda-harness/instrumentation');

async function main() {
  const { KAFKA_BROKERS, AMQP_URL, TOPIC, GROUP, QUEUE } = process.env;
  const brokers = KAFKA_BROKERS.split(',');
  const telemetry = await startTelemetry({ serviceName: 'shutdown-svc', metricsPort: 0 });
  const kafka = instrumentKafka(new Kafka({ clientId: 'shutdown-svc', brokers, logLevel: logLevel.NOTHING }), { brokers, clientId: 'shutdown-svc' });
  const amqp = instrumentAmqp(await amqplib.connect(AMQP_URL));

  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  const consumer = kafka.consumer({ groupId: GROUP });
  await consumer.connect();
  await consumer.subscribe({ topics: [TOPIC], fromBeginning: true });
  const kafkaDone = new Promise((resolve) => void consumer.run({ eachMessage: async () => resolve() }));

  const channel = await amqp.createChannel();
  await channel.assertQueue(QUEUE, { durable: false, autoDelete: true });
  const amqpDone = new Promise((resolve) => {
    void channel.consume(QUEUE, (msg) => {
      if (!msg) return;
      channel.ack(msg);
      resolve();
    });
  });

  // <sigterm>
  process.once('SIGTERM', () => {
    setTimeout(() => process.exit(1), 10_000).unref(); // a broker that does not answer must not hold the exit
    void Promise.allSettled([consumer.disconnect(), producer.disconnect(), amqp.close()])
      .then(() => telemetry.shutdown()) // flushes the last spans, closes /metrics
      .finally(() => process.exit());
  });
  // </sigterm>

  await producer.send({ topic: TOPIC, messages: [{ key: 'k', value: 'shutdown probe' }] });
  channel.sendToQueue(QUEUE, Buffer.from('shutdown probe'));
  await Promise.all([kafkaDone, amqpDone]);
  process.stdout.write('ready\n');
}

main().catch((err) => {
  console.error(err);
  process.exit(2);
});
