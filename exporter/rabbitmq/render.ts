import { EXPORTER_OBJECT, EXPORTER_TARGET, LABEL, QUEUE_MESSAGE_STATE, RABBITMQ_VIA } from '@eda-harness/semconv';
import { exportable } from '../lag';
import type { ClusterLabel, MetricSample } from '../render-samples';
import type { RabbitMqSnapshot } from '../types';
import type { RabbitMqCollection } from './types';

/**
 * The samples of a RabbitMQ collection. Every queue and DLQ series carries its vhost (two queues
 * of one name in two vhosts are two queues); message counts are RabbitMQ's cumulative
 * message_stats exported as counters, next to the deprecated smoothed rate gauge; and the way the
 * numbers were read is exported with whether it sees everything. Pure: a snapshot from an older
 * collector (no vhost on DLQs, no counts) renders what it has.
 */
export function renderRabbitMqSamples(snapshot: RabbitMqSnapshot | RabbitMqCollection, cluster?: ClusterLabel): MetricSample[] {
  const out: MetricSample[] = [];
  const push = (key: MetricSample['key'], labels: Record<string, string>, value: number | undefined): void => {
    const v = exportable(value);
    // The cluster label last, on a copy: label objects are shared between samples here.
    if (v !== undefined) out.push({ key, labels: cluster === undefined ? labels : { ...labels, [cluster.label]: cluster.name }, value: v });
  };
  const r = snapshot as Partial<RabbitMqCollection> & RabbitMqSnapshot;
  const target = { [LABEL.TARGET]: EXPORTER_TARGET.RABBITMQ };
  push('EXPORTER_LAST_COLLECTION', target, r.atMs / 1000);
  push('EXPORTER_COLLECTED_OBJECTS', { ...target, [LABEL.OBJECT]: EXPORTER_OBJECT.QUEUES }, r.queues.length);
  push('EXPORTER_COLLECTED_OBJECTS', { ...target, [LABEL.OBJECT]: EXPORTER_OBJECT.DLQS }, r.dlqs.length);

  for (const q of r.queues) {
    const queue = { [LABEL.VHOST]: q.vhost, [LABEL.QUEUE]: q.queue };
    push('RABBITMQ_QUEUE_MESSAGES', { ...queue, [LABEL.STATE]: QUEUE_MESSAGE_STATE.READY }, q.ready);
    push('RABBITMQ_QUEUE_MESSAGES', { ...queue, [LABEL.STATE]: QUEUE_MESSAGE_STATE.UNACKED }, q.unacked);
    push('RABBITMQ_QUEUE_CONSUMERS', queue, q.consumers);
    if ((q as Partial<RabbitMqCollection['queues'][number]>).retryHold === true) push('RABBITMQ_RETRY_QUEUE', queue, 1);
    for (const [operation, rate] of Object.entries(q.rates)) push('RABBITMQ_QUEUE_MESSAGE_RATE', { ...queue, [LABEL.MESSAGING_OPERATION_NAME]: operation }, rate);
    const totals = 'totals' in q ? (q as RabbitMqCollection['queues'][number]).totals : {};
    for (const [operation, total] of Object.entries(totals)) push('RABBITMQ_QUEUE_OPERATIONS', { ...queue, [LABEL.MESSAGING_OPERATION_NAME]: operation }, total);
  }
  for (const d of r.dlqs) {
    const vhost = 'vhost' in d && typeof d.vhost === 'string' ? { [LABEL.VHOST]: d.vhost } : {};
    const labels = { [LABEL.SYSTEM]: d.system, ...vhost, [LABEL.DLQ]: d.dlq };
    push('DLQ_DEPTH', labels, d.depth);
    push('DLQ_OLDEST_AGE', labels, d.oldestAgeSeconds);
  }
  // A DLQ that is gone (deleted, no longer dead-lettered into) stops being exported, its counter too.
  const dlqKey = (vhost: string | undefined, dlq: string | undefined): string => `${vhost ?? ''}\u0000${dlq ?? ''}`;
  const present = new Set(r.dlqs.map((d) => dlqKey('vhost' in d && typeof d.vhost === 'string' ? d.vhost : undefined, d.dlq)));
  for (const c of r.dlqInflow) {
    if (present.has(dlqKey(c.labels[LABEL.VHOST], c.labels[LABEL.DLQ]))) push('DLQ_INFLOW', { [LABEL.SYSTEM]: 'rabbitmq', ...c.labels }, c.value);
  }

  const via = r.source ?? r.via;
  for (const v of Object.values(RABBITMQ_VIA)) push('EXPORTER_RABBITMQ_VIA', { [LABEL.VIA]: v }, v === via ? 1 : 0);
  push('EXPORTER_DEGRADED', target, (r.degraded ?? r.via === 'amqp') ? 1 : 0);
  return out;
}
