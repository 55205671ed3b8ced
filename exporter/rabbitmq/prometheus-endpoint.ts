import { HttpRequestError, requestText } from '@eda-harness/core';
import { redactCredentials } from '../setting-rules';
import { requestTextWithCa } from './https-text';
import type { ManagementQueue } from './management';

/**
 * RabbitMQ's own Prometheus endpoint (the rabbitmq_prometheus plugin, port 15692), read when the
 * management API keeps no statistics (`management_agent.disable_metrics_collector = true`, as large
 * deployments are told to set) or does not answer. `/metrics/detailed` with the
 * `queue_coarse_metrics` and `queue_consumer_count` families gives, per vhost and queue, what the
 * exporter needs for depth and consumers:
 *
 *   rabbitmq_detailed_queue_messages_ready{vhost="/",queue="orders"} 3
 *   rabbitmq_detailed_queue_messages_unacked{vhost="/",queue="orders"} 1
 *   rabbitmq_detailed_queue_messages{vhost="/",queue="orders"} 4
 *   rabbitmq_detailed_queue_consumers{vhost="/",queue="orders"} 2
 *
 * The answer is turned into management-shaped queues, so the snapshot rules stay one set.
 */
export const DETAILED_QUEUE_PATH = '/metrics/detailed?family=queue_coarse_metrics&family=queue_consumer_count';

const FIELDS: Record<string, keyof Pick<ManagementQueue, 'messages' | 'messages_ready' | 'messages_unacknowledged' | 'consumers'>> = {
  rabbitmq_detailed_queue_messages_ready: 'messages_ready',
  rabbitmq_detailed_queue_messages_unacked: 'messages_unacknowledged',
  rabbitmq_detailed_queue_messages: 'messages',
  rabbitmq_detailed_queue_consumers: 'consumers',
};

/** Queues with depth and consumers from a `/metrics/detailed` answer (text exposition format). Pure. */
export function queuesFromDetailedMetrics(text: string): ManagementQueue[] {
  const queues = new Map<string, { name: string; vhost: string } & Record<string, number | string>>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const sample = parseSampleLine(line);
    if (!sample) continue;
    const field = FIELDS[sample.name];
    const { vhost, queue } = sample.labels;
    if (!field || vhost === undefined || queue === undefined || !Number.isFinite(sample.value)) continue;
    const key = `${vhost}\u0000${queue}`;
    const q = queues.get(key) ?? { name: queue, vhost };
    q[field] = sample.value;
    queues.set(key, q);
  }
  return [...queues.values()] as unknown as ManagementQueue[];
}

/** One `name{label="value",…} value [timestamp]` line; undefined for what is not one. */
export function parseSampleLine(line: string): { name: string; labels: Record<string, string>; value: number } | undefined {
  const brace = line.indexOf('{');
  const space = line.indexOf(' ');
  if (brace < 0 || (space >= 0 && space < brace)) {
    const [name, value] = line.trim().split(/\s+/);
    return name && value ? { name, labels: {}, value: Number(value) } : undefined;
  }
  const name = line.slice(0, brace);
  const labels: Record<string, string> = {};
  let i = brace + 1;
  while (i < line.length && line[i] !== '}') {
    const eq = line.indexOf('=', i);
    if (eq < 0 || line[eq + 1] !== '"') return undefined;
    const label = line.slice(i, eq).trim();
    let value = '';
    let j = eq + 2;
    for (; j < line.length && line[j] !== '"'; j++) {
      if (line[j] === '\\' && j + 1 < line.length) {
        j++;
        value += line[j] === 'n' ? '\n' : line[j];
      } else value += line[j];
    }
    labels[label] = value;
    i = j + 1;
    if (line[i] === ',') i++;
  }
  const rest = line.slice(i + 1).trim().split(/\s+/);
  return rest[0] ? { name, labels, value: Number(rest[0]) } : undefined;
}

export interface PrometheusEndpointClient {
  queues(): Promise<ManagementQueue[]>;
}

/**
 * `url` is the plugin's base (http://host:15692), with or without a trailing /metrics. `caFile`
 * (PEM) is trusted for an https endpoint (prometheus.ssl.* on the server), as for the management API.
 */
export function createPrometheusEndpointClient(options: { readonly url: string; readonly timeoutMs?: number; readonly caFile?: string }): PrometheusEndpointClient {
  const base = options.url.replace(/\/+$/, '').replace(/\/metrics$/, '');
  // A CA only means something over TLS; an http endpoint next to an https management API is common.
  const caFile = base.startsWith('https:') ? options.caFile : undefined;
  return {
    async queues() {
      const url = `${base}${DETAILED_QUEUE_PATH}`;
      try {
        const request = { headers: { accept: 'text/plain' }, timeoutMs: options.timeoutMs ?? 5_000 };
        return queuesFromDetailedMetrics(caFile === undefined ? await requestText(url, request) : await requestTextWithCa(url, { ...request, caFile }));
      } catch (err) {
        if (!(err instanceof HttpRequestError)) throw err;
        const hint = err.status === 404 ? { hint: 'RabbitMQ 3.10 or later with the rabbitmq_prometheus plugin serves /metrics/detailed.' } : {};
        throw new HttpRequestError(`RabbitMQ Prometheus endpoint: ${redactCredentials(err.message)}`, { cause: err, retriable: err.retriable, ...(err.status !== undefined ? { status: err.status } : {}), ...hint });
      }
    },
  };
}
