import { EXPORTER_OBJECT, EXPORTER_TARGET, KAFKA_CONSUMER_STATUS, LABEL } from '@eda-harness/semconv';
import type { MetricKey } from '@eda-harness/semconv';
import { exportable } from './lag';
import { renderRabbitMqSamples } from './rabbitmq/render';
import type { Granularity, KafkaSnapshot, PartitionLagSample, RabbitMqSnapshot } from './types';

/** One value to export. */
export interface MetricSample {
  readonly key: MetricKey;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Health of one target, kept by the exporter loop. */
export interface TargetHealth {
  readonly target: string;
  /** The cluster's or server's name (the cluster label's value); absent in a bare render. */
  readonly cluster?: string;
  readonly up: boolean;
  readonly lastDurationSeconds: number | undefined;
  readonly lastSuccessMs: number | undefined;
  readonly errors: number;
  /** Requests that failed inside successful collections, by request (eda_exporter_partial_failures_total). */
  readonly partialFailures?: ReadonlyMap<string, number>;
}

/** A Kafka snapshot as rendered (the last stable offsets are part of KafkaSnapshot now). */
export type RenderedKafkaSnapshot = KafkaSnapshot;

/** The cluster label of a target's samples: its name and the target's name. */
export interface ClusterLabel {
  readonly label: string;
  readonly name: string;
}

export interface RenderInput {
  readonly granularity: Granularity;
  /** Put on every sample, after its own labels (see {@link withClusterLabel}); none in a bare render. */
  readonly cluster?: ClusterLabel | undefined;
  readonly kafka: RenderedKafkaSnapshot | undefined;
  readonly rabbitmq: RabbitMqSnapshot | undefined;
  readonly health: readonly TargetHealth[];
}

/**
 * Turns the cached snapshots into the samples of one scrape. Pure, so the rules that matter to
 * Prometheus users are unit-tested here: every value is finite and non-negative or left out (no
 * NaN, no -1, ever), topic granularity sums message counts and takes the maximum of ages and
 * times, and no label comes from anything that churns on a rebalance.
 */
export function renderSamples(input: RenderInput): MetricSample[] {
  const out: MetricSample[] = [];
  const { cluster } = input;
  const push = (key: MetricKey, labels: Record<string, string>, value: number | undefined): void => {
    const v = exportable(value);
    // The cluster label last, on a copy: some label objects are shared between samples.
    if (v !== undefined) out.push({ key, labels: cluster === undefined ? labels : { ...labels, [cluster.label]: cluster.name }, value: v });
  };

  for (const h of input.health) {
    const target = { [LABEL.TARGET]: h.target };
    push('EXPORTER_UP', target, h.up ? 1 : 0);
    push('EXPORTER_COLLECT_DURATION', target, h.lastDurationSeconds);
    push('EXPORTER_LAST_SUCCESS', target, h.lastSuccessMs === undefined ? undefined : h.lastSuccessMs / 1000);
    push('EXPORTER_COLLECT_ERRORS', target, h.errors);
    for (const [request, count] of h.partialFailures ?? []) push('EXPORTER_PARTIAL_FAILURES', { ...target, [LABEL.REQUEST]: request }, count);
  }

  const k = input.kafka;
  if (k) {
    const target = { [LABEL.TARGET]: EXPORTER_TARGET.KAFKA };
    // The age of every value below: they are all from this one collection.
    push('EXPORTER_LAST_COLLECTION', target, k.atMs / 1000);
    const objects = (object: string, count: number): void => push('EXPORTER_COLLECTED_OBJECTS', { ...target, [LABEL.OBJECT]: object }, count);
    objects(EXPORTER_OBJECT.GROUPS, k.groups.length);
    objects(EXPORTER_OBJECT.GROUP_PARTITIONS, k.partitions.length);
    objects(EXPORTER_OBJECT.TOPICS, new Set(k.watermarks.map((w) => w.topic)).size);
    objects(EXPORTER_OBJECT.PARTITIONS, k.watermarks.length);
    objects(EXPORTER_OBJECT.DLQS, k.dlqs.length);
    for (const row of aggregatePartitions(k.partitions, input.granularity)) {
      const labels: Record<string, string> = { [LABEL.GROUP]: row.group, [LABEL.TOPIC]: row.topic };
      if (row.partition !== undefined) labels[LABEL.PARTITION] = String(row.partition);
      push('KAFKA_CONSUMER_LAG_MESSAGES', labels, row.lagMessages);
      push('KAFKA_CONSUMER_LAG_SECONDS', labels, row.lagSeconds);
      push('KAFKA_CONSUMER_LAST_COMMIT', labels, row.lastCommitMs / 1000);
      push('KAFKA_CONSUMER_COMMITTED_OFFSET', labels, row.committedOffset);
    }
    // High watermarks and last stable offsets: per partition, or summed per topic (so that the
    // summed committed offsets can be subtracted from them at either granularity).
    const offsets = (key: MetricKey, rows: Iterable<{ topic: string; partition: number; offset: number }>): void => {
      if (input.granularity === 'partition') {
        for (const r of rows) push(key, { [LABEL.TOPIC]: r.topic, [LABEL.PARTITION]: String(r.partition) }, r.offset);
        return;
      }
      const sums = new Map<string, number>();
      for (const r of rows) sums.set(r.topic, (sums.get(r.topic) ?? 0) + r.offset);
      for (const [topic, sum] of sums) push(key, { [LABEL.TOPIC]: topic }, sum);
    };
    offsets('KAFKA_PARTITION_HIGH_WATERMARK', k.watermarks.map((w) => ({ topic: w.topic, partition: w.partition, offset: w.high })));
    offsets('KAFKA_PARTITION_LAST_STABLE_OFFSET', (k.stableOffsets ?? []).map((w) => ({ topic: w.topic, partition: w.partition, offset: w.stable })));
    for (const g of k.groups) {
      push('KAFKA_CONSUMER_STATUS', { [LABEL.GROUP]: g.group }, KAFKA_CONSUMER_STATUS[g.status]);
      push('KAFKA_CONSUMER_GROUP_MEMBERS', { [LABEL.GROUP]: g.group }, g.members);
      push('KAFKA_CONSUMER_GROUP_STATE', { [LABEL.GROUP]: g.group, [LABEL.STATE]: g.state }, 1);
      for (const [topic, count] of g.uncommitted) push('KAFKA_CONSUMER_UNCOMMITTED_PARTITIONS', { [LABEL.GROUP]: g.group, [LABEL.TOPIC]: topic }, count);
    }
    // Where each group/topic's lag in seconds came from, counted in partitions; unknown ones are not exported as lag.
    const sources = new Map<string, { group: string; topic: string; source: string; partitions: number }>();
    for (const p of k.partitions) {
      const source = Number.isNaN(p.lagSeconds) ? 'unknown' : p.lagSecondsSource;
      const key = `${p.group}\u0000${p.topic}\u0000${source}`;
      const e = sources.get(key) ?? { group: p.group, topic: p.topic, source, partitions: 0 };
      sources.set(key, { ...e, partitions: e.partitions + 1 });
    }
    for (const s of sources.values()) push('KAFKA_CONSUMER_LAG_SECONDS_SOURCE', { [LABEL.GROUP]: s.group, [LABEL.TOPIC]: s.topic, [LABEL.SOURCE]: s.source }, s.partitions);
    for (const w of k.lowWatermarks ?? []) {
      if (input.granularity === 'partition') push('KAFKA_PARTITION_LOW_WATERMARK', { [LABEL.TOPIC]: w.topic, [LABEL.PARTITION]: String(w.partition) }, w.low);
    }
    for (const l of k.retentionLoss ?? []) push('KAFKA_CONSUMER_RETENTION_LOST', { [LABEL.GROUP]: l.group, [LABEL.TOPIC]: l.topic, [LABEL.PARTITION]: String(l.partition) }, l.messages);
    for (const [group, assignment] of k.assignment ?? []) push('KAFKA_CONSUMER_GROUP_ASSIGNMENT', { [LABEL.GROUP]: group, [LABEL.ASSIGNMENT]: assignment }, 1);
    if (k.rewound) {
      const rewound = new Set(k.rewound);
      for (const g of k.groups) push('KAFKA_CONSUMER_REWOUND', { [LABEL.GROUP]: g.group }, rewound.has(g.group) ? 1 : 0);
    }
    // Counters of groups and dead-letter topics that are gone are not exported any more (their
    // counts may linger in a collector's memory): a vanished group's series must not live for ever.
    const groups = new Set(k.groups.map((g) => g.group));
    const dlqs = new Set(k.dlqs.map((d) => d.dlq));
    for (const c of k.clamps) if (groups.has(c.labels[LABEL.GROUP] ?? '')) push('KAFKA_CONSUMER_LAG_CLAMPED', { ...c.labels }, c.value);
    for (const c of k.dlqInflow) if (dlqs.has(c.labels[LABEL.DLQ] ?? '')) push('DLQ_INFLOW', { [LABEL.SYSTEM]: 'kafka', ...c.labels }, c.value);
    for (const d of k.dlqs) {
      push('DLQ_DEPTH', { [LABEL.SYSTEM]: d.system, [LABEL.DLQ]: d.dlq }, d.depth);
      push('DLQ_OLDEST_AGE', { [LABEL.SYSTEM]: d.system, [LABEL.DLQ]: d.dlq }, d.oldestAgeSeconds);
    }
  }

  if (input.rabbitmq) for (const s of renderRabbitMqSamples(input.rabbitmq, cluster)) out.push(s);
  return out;
}

/**
 * The samples of one target with its name in the cluster label. The label goes on every series
 * (the exporter's health too), so queries and alerts can always group by it, with one cluster or
 * many. The exporter gives the label to {@link renderSamples} instead (`cluster`), which adds it
 * without copying every sample twice; this gives the same samples.
 */
export function withClusterLabel(samples: readonly MetricSample[], label: string, name: string): MetricSample[] {
  return samples.map((s) => ({ ...s, labels: { ...s.labels, [label]: name } }));
}

interface AggregateRow {
  readonly group: string;
  readonly topic: string;
  readonly partition: number | undefined;
  readonly lagMessages: number;
  readonly lagSeconds: number;
  readonly lastCommitMs: number;
  readonly committedOffset: number;
}

/** Partition rows as they are, or one row per group and topic: counts summed, ages and times maxed. */
export function aggregatePartitions(samples: readonly PartitionLagSample[], granularity: Granularity): AggregateRow[] {
  if (granularity === 'partition') return samples.map((s) => ({ ...s }));
  const rows = new Map<string, AggregateRow>();
  for (const s of samples) {
    const key = `${s.group}\u0000${s.topic}`;
    const e = rows.get(key);
    rows.set(
      key,
      e === undefined
        ? { group: s.group, topic: s.topic, partition: undefined, lagMessages: s.lagMessages, lagSeconds: s.lagSeconds, lastCommitMs: s.lastCommitMs, committedOffset: s.committedOffset }
        : {
            ...e,
            lagMessages: e.lagMessages + s.lagMessages,
            // An unknown (NaN) partition must not hide the known ones' lag.
            lagSeconds: Number.isNaN(e.lagSeconds) ? s.lagSeconds : Number.isNaN(s.lagSeconds) ? e.lagSeconds : Math.max(e.lagSeconds, s.lagSeconds),
            lastCommitMs: Math.max(e.lastCommitMs, s.lastCommitMs),
            committedOffset: e.committedOffset + s.committedOffset,
          },
    );
  }
  return [...rows.values()];
}

