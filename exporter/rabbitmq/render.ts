import { EXPORTER_TARGET, LABEL, QUEUE_MESSAGE_STATE, RABBITMQ_VIA } from '@eda-harness/semconv';
import { exportable } from '../lag';
import type { MetricSample } from '../render-samples';
import type { RabbitMqSnapshot } from '../types';
import type { RabbitMqCollection } from './types';

/**
 * The samples of a RabbitMQ collection. Every queue and DLQ series carries its vhost (two queues
 * of one name in two vhosts are two queues); message counts are RabbitMQ's cumulative
 * message_stats exported as counters, next to the deprecated smoothed rate gauge; and the way the
 * numbers were read is exported with whether it sees everything. Pure: a snapshot from an older
 * collector (no vhost on DLQs, no counts) renders what it has.
 */
export function renderRabbitMqSamples(snapshot: RabbitMqSnapshot | RabbitMqCollection): MetricSample[] {
  const out: MetricSample[] = [];
  const push = (key: MetricSample['key'], labels: Record<string, string>, value: number | undefined): void => {
    const v = exportable(value);
    if (v !== undefined) out.push({ key, labels, value: v });
  };
  const r = snapshot as Partial<RabbitMqCollection> & RabbitMqSnapshot;

  for (const q of r.queues) {
    const queue = { [LABEL.VHOST]: q.vhost, [LABEL.QUEUE]: q.queue };
    push('RABBITMQ_QUEUE_MESSAGES', { ...queue, [LABEL.STATE]: QUEUE_MESSAGE_STATE.READY }, q.ready);
    push('RABBITMQ_QUEUE_MESSAGES', { ...queue, [LABEL.STATE]: QUEUE_MESSAGE_STATE.UNACKED }, q.unacked);
    push('RABBITMQ_QUEUE_CONSUMERS', queue, q.consumers);
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
  for (const c of r.dlqInflow) push('DLQ_INFLOW', { [LABEL.SYSTEM]: 'rabbitmq', ...c.labels }, c.value);

  const via = r.source ?? r.via;
  for (const v of Object.values(RABBITMQ_VIA)) push('EXPORTER_RABBITMQ_VIA', { [LABEL.VIA]: v }, v === via ? 1 : 0);
  push('EXPORTER_DEGRADED', { [LABEL.TARGET]: EXPORTER_TARGET.RABBITMQ }, (r.degraded ?? r.via === 'amqp') ? 1 : 0);
  return out;
}
