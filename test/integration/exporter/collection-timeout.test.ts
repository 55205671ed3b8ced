import { Kafka, logLevel } from 'kafkajs';
import type { Admin, Producer } from 'kafkajs';
import { Registry } from 'prom-client';
import { Environment } from '../../../environment/index';
import type { StartedEnvironment } from '../../../environment/index';
import { createExporter } from '../../../exporter/exporter';
import type { Exporter } from '../../../exporter/exporter';
import { createKafkaCollector } from '../../../exporter/kafka/collector';
import { openConnection } from '../../../exporter/kafka/read-cluster';
import type { KafkaConnection } from '../../../exporter/kafka/read-cluster';
import type { Collector, KafkaSnapshot } from '../../../exporter/types';
import { METRIC } from '../../../semconv/index';
import { uniqueName } from '../../support/names';

/**
 * A collection that outlives its deadline must not touch what the next collections build on. The
 * record fetch of one collection is held (after it read the dead-letter topic's log end) until it
 * has timed out and a later collection has completed; when it is let go, its results must be
 * thrown away. Before cancellation, the late collection wrote its older log end into the memory
 * and the next collection counted the same dead letters twice (a true inflow of 100 exported as 150).
 */
let env: StartedEnvironment;
let admin: Admin;
let producer: Producer;
let exporter: Exporter | undefined;

beforeAll(async () => {
  env = await new Environment().withKafka().withToxiproxy(false).start();
  const kafka = new Kafka({ clientId: 'collection-timeout-it', brokers: env.getKafkaBrokers(), logLevel: logLevel.NOTHING });
  admin = kafka.admin();
  await admin.connect();
  producer = kafka.producer();
  await producer.connect();
}, 180_000);

afterAll(async () => {
  await exporter?.stop();
  await producer?.disconnect().catch(() => undefined);
  await admin?.disconnect().catch(() => undefined);
  await env?.stop();
});

/** A gate in front of the record fetches: while `held`, each fetch waits until `release()`. */
function fetchGate() {
  let held = false;
  let release: () => void = () => undefined;
  let waiting = Promise.resolve();
  let entered = 0;
  const wrap = async (kafka: Kafka): Promise<KafkaConnection> => {
    const connection = await openConnection(kafka);
    const cluster = connection.cluster;
    if (!cluster) throw new Error('this kafkajs version exposes no internal cluster: the record fetch cannot be held');
    return {
      ...connection,
      cluster: {
        ...cluster,
        fetchRecords: async (requests) => {
          if (held) {
            entered++;
            await waiting;
          }
          return cluster.fetchRecords(requests);
        },
      },
    };
  };
  return {
    wrap,
    hold() {
      held = true;
      waiting = new Promise<void>((r) => (release = r));
    },
    /** Fetches from now on go through; the held ones keep waiting for {@link release}. */
    stopHolding() {
      held = false;
    },
    release() {
      release();
    },
    get entered() {
      return entered;
    },
  };
}

async function inflow(registry: Registry, dlq: string): Promise<number | undefined> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === METRIC.DLQ_INFLOW.name);
  return metric?.values.find((v) => v.labels['dlq'] === dlq)?.value;
}

async function deadLetter(dlq: string, count: number): Promise<void> {
  await producer.send({ topic: dlq, messages: Array.from({ length: count }, (_, i) => ({ value: `dead-${i}` })) });
}

it('a collection timeout leaves counters exact: the late collection is discarded', async () => {
  const source = uniqueName('cto');
  const dlq = `${source}.dlq`;
  await admin.createTopics({ topics: [{ topic: dlq, numPartitions: 1 }], waitForLeaders: true });
  const gate = fetchGate();
  const collector = createKafkaCollector({ config: { brokers: env.getKafkaBrokers(), topics: { allow: [`${source}*`] }, groups: { allow: [`${source}*`] } }, openConnection: gate.wrap });
  // Every collection's own promise, so the test can wait for the late one to finish.
  const runs: Promise<unknown>[] = [];
  const watched: Collector<KafkaSnapshot> = {
    target: collector.target,
    collect: (...args: Parameters<typeof collector.collect>) => {
      const run = collector.collect(...args);
      runs.push(run.catch(() => undefined));
      return run;
    },
    close: () => collector.close(),
  };
  const registry = new Registry();
  exporter = createExporter({ config: { intervalSeconds: 3600, collectTimeoutSeconds: 3 }, registry, collectors: [{ kind: 'kafka', name: 'default', collector: watched }] });

  // 1. Baseline: the empty dead-letter topic, log end 0.
  await exporter.collectNow();
  expect(exporter.health()[0]?.up).toBe(true);
  expect(await inflow(registry, dlq)).toBe(0);

  // 2. 50 dead letters; this collection reads log end 50, then hangs in the record fetch and times out.
  await deadLetter(dlq, 50);
  gate.hold();
  await exporter.collectNow();
  expect(gate.entered).toBe(1);
  expect(exporter.health()[0]).toMatchObject({ up: false, errors: 1 });

  // 3. 50 more; a collection that completes counts all 100.
  await deadLetter(dlq, 50);
  gate.stopHolding();
  await exporter.collectNow();
  expect(exporter.health()[0]?.up).toBe(true);
  expect(await inflow(registry, dlq)).toBe(100);

  // 4. The timed-out collection now finishes, with its log end of 50.
  gate.release();
  await runs[1];

  // 5. Nothing more arrived: the next collection must still say 100.
  await exporter.collectNow();
  expect(exporter.health()[0]?.up).toBe(true);
  expect(await inflow(registry, dlq)).toBe(100);
  // And the counter keeps counting exactly afterwards.
  await deadLetter(dlq, 7);
  await exporter.collectNow();
  expect(await inflow(registry, dlq)).toBe(107);
}, 120_000);
