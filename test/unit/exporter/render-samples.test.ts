import { renderSamples } from '../../../exporter/render-samples';
import type { RenderInput } from '../../../exporter/render-samples';
import type { KafkaSnapshot, PartitionLagSample, RabbitMqSnapshot } from '../../../exporter/types';

const part = (partition: number, lagMessages: number, lagSeconds: number, lastCommitMs: number): PartitionLagSample => ({
  group: 'g',
  topic: 't',
  partition,
  committedOffset: 100 * partition,
  highWatermark: 100 * partition + lagMessages,
  lagMessages,
  lagSeconds,
  lagSecondsSource: lagMessages === 0 ? 'caught-up' : 'record',
  lastCommitMs,
});

const kafka = (partitions: PartitionLagSample[]): KafkaSnapshot => ({
  atMs: 0,
  groups: [{ group: 'g', state: 'Stable', members: 2, status: 'STALL', uncommitted: new Map([['t', 1]]) }],
  partitions,
  watermarks: [
    { topic: 't', partition: 0, high: 10 },
    { topic: 't', partition: 1, high: 20 },
  ],
  dlqs: [{ system: 'kafka', dlq: 't.dlq', sources: ['t'], depth: 0, oldestAgeSeconds: 0 }],
  clamps: [{ labels: { group: 'g', topic: 't' }, value: 2 }],
  dlqInflow: [{ labels: { dlq: 't.dlq', source: 't' }, value: 5 }],
  warnings: [],
});

const input = (over: Partial<RenderInput>): RenderInput => ({ granularity: 'partition', kafka: undefined, rabbitmq: undefined, health: [], ...over });

describe('renderSamples', () => {
  it('exports one lag series per partition at partition granularity', () => {
    const out = renderSamples(input({ kafka: kafka([part(0, 5, 3, 1_000), part(1, 7, 9, 2_000)]) }));
    const lag = out.filter((s) => s.key === 'KAFKA_CONSUMER_LAG_MESSAGES');
    expect(lag).toEqual([
      { key: 'KAFKA_CONSUMER_LAG_MESSAGES', labels: { group: 'g', topic: 't', partition: '0' }, value: 5 },
      { key: 'KAFKA_CONSUMER_LAG_MESSAGES', labels: { group: 'g', topic: 't', partition: '1' }, value: 7 },
    ]);
    expect(out.find((s) => s.key === 'KAFKA_CONSUMER_STATUS')).toEqual({ key: 'KAFKA_CONSUMER_STATUS', labels: { group: 'g' }, value: 2 });
    expect(out.find((s) => s.key === 'KAFKA_CONSUMER_UNCOMMITTED_PARTITIONS')?.value).toBe(1);
    expect(out.find((s) => s.key === 'DLQ_INFLOW')).toEqual({ key: 'DLQ_INFLOW', labels: { system: 'kafka', dlq: 't.dlq', source: 't' }, value: 5 });
  });

  it('at topic granularity sums messages and offsets, and takes the maximum age and commit time', () => {
    const out = renderSamples(input({ granularity: 'topic', kafka: kafka([part(0, 5, 3, 1_000), part(1, 7, 9, 2_000)]) }));
    const get = (key: string) => out.filter((s) => s.key === key);
    expect(get('KAFKA_CONSUMER_LAG_MESSAGES')).toEqual([{ key: 'KAFKA_CONSUMER_LAG_MESSAGES', labels: { group: 'g', topic: 't' }, value: 12 }]);
    expect(get('KAFKA_CONSUMER_LAG_SECONDS')[0]?.value).toBe(9);
    expect(get('KAFKA_CONSUMER_LAST_COMMIT')[0]?.value).toBe(2);
    expect(get('KAFKA_PARTITION_HIGH_WATERMARK')).toEqual([{ key: 'KAFKA_PARTITION_HIGH_WATERMARK', labels: { topic: 't' }, value: 30 }]);
  });

  it('at topic granularity an unknown partition does not hide the known lag in seconds, and says where each value came from', () => {
    const out = renderSamples(input({ granularity: 'topic', kafka: kafka([part(0, 5, Number.NaN, 1_000), part(1, 7, 9, 2_000), part(2, 0, 0, 2_000)]) }));
    expect(out.filter((s) => s.key === 'KAFKA_CONSUMER_LAG_SECONDS').map((s) => s.value)).toEqual([9]);
    expect(out.filter((s) => s.key === 'KAFKA_CONSUMER_LAG_SECONDS_SOURCE').map((s) => [s.labels['source'], s.value])).toEqual([
      ['unknown', 1],
      ['record', 1],
      ['caught-up', 1],
    ]);
  });

  it('exports the last stable offset per partition, or summed per topic like the high watermark', () => {
    const snapshot = {
      ...kafka([part(0, 5, 3, 1_000)]),
      stableOffsets: [
        { topic: 't', partition: 0, stable: 8 },
        { topic: 't', partition: 1, stable: 4 },
      ],
    };
    const lso = (granularity: 'partition' | 'topic') =>
      renderSamples(input({ granularity, kafka: snapshot }))
        .filter((s) => s.key === 'KAFKA_PARTITION_LAST_STABLE_OFFSET')
        .map((s) => ({ labels: s.labels, value: s.value }));
    expect(lso('partition')).toEqual([
      { labels: { topic: 't', partition: '0' }, value: 8 },
      { labels: { topic: 't', partition: '1' }, value: 4 },
    ]);
    expect(lso('topic')).toEqual([{ labels: { topic: 't' }, value: 12 }]);
    expect(renderSamples(input({ kafka: kafka([part(0, 5, 3, 1_000)]) })).some((s) => s.key === 'KAFKA_PARTITION_LAST_STABLE_OFFSET')).toBe(false);
  });

  it('exports log starts, retention loss, assignment kind and rewinds from a snapshot that has them', () => {
    const snapshot: KafkaSnapshot = {
      ...kafka([part(0, 5, 3, 1_000)]),
      lowWatermarks: [{ topic: 't', partition: 0, low: 30 }],
      retentionLoss: [{ group: 'g', topic: 't', partition: 0, messages: 20 }],
      assignment: new Map([['g', 'manual' as const]]),
      rewound: ['g'],
    };
    const out = renderSamples(input({ kafka: snapshot }));
    const one = (key: string) => out.filter((s) => s.key === key).map((s) => ({ labels: s.labels, value: s.value }));
    expect(one('KAFKA_PARTITION_LOW_WATERMARK')).toEqual([{ labels: { topic: 't', partition: '0' }, value: 30 }]);
    expect(one('KAFKA_CONSUMER_RETENTION_LOST')).toEqual([{ labels: { group: 'g', topic: 't', partition: '0' }, value: 20 }]);
    expect(one('KAFKA_CONSUMER_GROUP_ASSIGNMENT')).toEqual([{ labels: { group: 'g', assignment: 'manual' }, value: 1 }]);
    expect(one('KAFKA_CONSUMER_REWOUND')).toEqual([{ labels: { group: 'g' }, value: 1 }]);
  });

  it('never exports a negative, NaN or infinite value', () => {
    const bad = [part(0, 5, Number.NaN, 1_000), part(1, -1, -3, Number.POSITIVE_INFINITY)];
    const out = renderSamples(
      input({
        kafka: kafka(bad),
        health: [{ target: 'kafka', up: false, lastDurationSeconds: Number.NaN, lastSuccessMs: undefined, errors: 3 }],
      }),
    );
    for (const s of out) expect(Number.isFinite(s.value) && s.value >= 0).toBe(true);
    expect(out.some((s) => s.key === 'KAFKA_CONSUMER_LAG_SECONDS')).toBe(false);
    expect(out.find((s) => s.key === 'EXPORTER_UP')?.value).toBe(0);
    expect(out.some((s) => s.key === 'EXPORTER_LAST_SUCCESS')).toBe(false);
  });

  it('uses no label that churns on a rebalance (member, host, client id)', () => {
    const out = renderSamples(input({ kafka: kafka([part(0, 1, 1, 1)]) }));
    const labelNames = new Set(out.flatMap((s) => Object.keys(s.labels)));
    expect([...labelNames].sort()).toEqual(['dlq', 'group', 'object', 'partition', 'source', 'state', 'system', 'target', 'topic']);
  });

  it('says when the values were read and how much each collection read', () => {
    const out = renderSamples(input({ kafka: { ...kafka([part(0, 5, 3, 1_000), part(1, 7, 9, 2_000)]), atMs: 1_700_000_000_500 } }));
    expect(out.filter((s) => s.key === 'EXPORTER_LAST_COLLECTION')).toEqual([{ key: 'EXPORTER_LAST_COLLECTION', labels: { target: 'kafka' }, value: 1_700_000_000.5 }]);
    expect(Object.fromEntries(out.filter((s) => s.key === 'EXPORTER_COLLECTED_OBJECTS').map((s) => [s.labels['object'], s.value]))).toEqual({
      groups: 1,
      group_partitions: 2,
      topics: 1,
      partitions: 2,
      dlqs: 1,
    });
    const rabbit = renderSamples(
      input({
        rabbitmq: {
          atMs: 2_000,
          via: 'management',
          queues: [
            { vhost: '/', queue: 'a', ready: 1, unacked: 0, consumers: 1, rates: {} },
            { vhost: '/', queue: 'a.dlq', ready: 1, unacked: 0, consumers: 0, rates: {} },
          ],
          dlqs: [{ system: 'rabbitmq', dlq: 'a.dlq', sources: ['a'], depth: 1, oldestAgeSeconds: 1 }],
          dlqInflow: [],
          warnings: [],
        },
      }),
    );
    expect(rabbit.filter((s) => s.key === 'EXPORTER_LAST_COLLECTION').map((s) => [s.labels, s.value])).toEqual([[{ target: 'rabbitmq' }, 2]]);
    expect(rabbit.filter((s) => s.key === 'EXPORTER_COLLECTED_OBJECTS').map((s) => [s.labels['object'], s.value])).toEqual([
      ['queues', 2],
      ['dlqs', 1],
    ]);
  });

  it('counts partial failures by request from the target health', () => {
    const out = renderSamples(
      input({ health: [{ target: 'kafka', up: true, lastDurationSeconds: 1, lastSuccessMs: 1_000, errors: 0, partialFailures: new Map([['list_offsets', 3], ['describe_group', 1]]) }] }),
    );
    expect(out.filter((s) => s.key === 'EXPORTER_PARTIAL_FAILURES').map((s) => [s.labels, s.value])).toEqual([
      [{ target: 'kafka', request: 'list_offsets' }, 3],
      [{ target: 'kafka', request: 'describe_group' }, 1],
    ]);
  });

  it('does not export the counters of a group or dead-letter topic that is gone, though the memory still holds them', () => {
    const snapshot: KafkaSnapshot = {
      ...kafka([part(0, 5, 3, 1_000)]),
      clamps: [
        { labels: { group: 'g', topic: 't' }, value: 2 },
        { labels: { group: 'gone', topic: 't' }, value: 4 },
      ],
      dlqInflow: [
        { labels: { dlq: 't.dlq', source: 't' }, value: 5 },
        { labels: { dlq: 'deleted.dlq', source: 'deleted' }, value: 9 },
      ],
    };
    const out = renderSamples(input({ kafka: snapshot }));
    expect(out.filter((s) => s.key === 'KAFKA_CONSUMER_LAG_CLAMPED').map((s) => s.labels['group'])).toEqual(['g']);
    expect(out.filter((s) => s.key === 'DLQ_INFLOW').map((s) => s.labels['dlq'])).toEqual(['t.dlq']);
    const rabbit = renderSamples(
      input({
        rabbitmq: {
          atMs: 0,
          via: 'management',
          queues: [],
          dlqs: [{ system: 'rabbitmq', vhost: '/', dlq: 'a.dlq', sources: [], depth: 0, oldestAgeSeconds: 0 } as RabbitMqSnapshot['dlqs'][number]],
          dlqInflow: [
            { labels: { vhost: '/', dlq: 'a.dlq', source: 'a' }, value: 1 },
            { labels: { vhost: 'other', dlq: 'a.dlq', source: 'a' }, value: 2 },
            { labels: { vhost: '/', dlq: 'deleted.dlq', source: 'x' }, value: 3 },
          ],
          warnings: [],
        },
      }),
    );
    expect(rabbit.filter((s) => s.key === 'DLQ_INFLOW').map((s) => s.value)).toEqual([1]);
  });

  it('omits unacked when only AMQP could be asked', () => {
    const out = renderSamples(
      input({
        rabbitmq: {
          atMs: 0,
          via: 'amqp',
          queues: [{ vhost: '/', queue: 'q', ready: 4, unacked: undefined, consumers: 1, rates: {} }],
          dlqs: [],
          dlqInflow: [],
          warnings: [],
        },
      }),
    );
    expect(out.filter((s) => s.key === 'RABBITMQ_QUEUE_MESSAGES')).toEqual([
      { key: 'RABBITMQ_QUEUE_MESSAGES', labels: { queue: 'q', state: 'ready', vhost: '/' }, value: 4 },
    ]);
  });
});
