import { createRabbitMqCollector } from '../../../exporter/rabbitmq/collector';
import type { ManagementClient, ManagementQueue } from '../../../exporter/rabbitmq/management';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRabbitTlsFiles } from '../../../environment/native/rabbitmq-tls';
import { createPrometheusEndpointClient, parseSampleLine, queuesFromDetailedMetrics } from '../../../exporter/rabbitmq/prometheus-endpoint';
import type { PrometheusEndpointClient } from '../../../exporter/rabbitmq/prometheus-endpoint';

/**
 * RabbitMQ's own Prometheus endpoint, read when the management API keeps no statistics. The sample
 * is captured from the native RabbitMQ 3.10.8 of the environment (rabbitmq_prometheus enabled),
 * GET /metrics/detailed?family=queue_coarse_metrics&family=queue_consumer_count, with one queue
 * name escaped by hand to cover the format's escapes.
 */
const CAPTURED = `# TYPE rabbitmq_detailed_queue_messages_ready gauge
# HELP rabbitmq_detailed_queue_messages_ready Messages ready to be delivered to consumers
rabbitmq_detailed_queue_messages_ready{vhost="v2",queue="q1"} 1
rabbitmq_detailed_queue_messages_ready{vhost="/",queue="q1"} 0
rabbitmq_detailed_queue_messages_ready{vhost="/",queue="odd \\"name\\"\\\\x"} 7
# TYPE rabbitmq_detailed_queue_messages_unacked gauge
# HELP rabbitmq_detailed_queue_messages_unacked Messages delivered to consumers but not yet acknowledged
rabbitmq_detailed_queue_messages_unacked{vhost="v2",queue="q1"} 2
rabbitmq_detailed_queue_messages_unacked{vhost="/",queue="q1"} 0
# TYPE rabbitmq_detailed_queue_messages gauge
# HELP rabbitmq_detailed_queue_messages Sum of ready and unacknowledged messages - total queue depth
rabbitmq_detailed_queue_messages{vhost="v2",queue="q1"} 3
rabbitmq_detailed_queue_messages{vhost="/",queue="q1"} 0
# TYPE rabbitmq_detailed_queue_process_reductions_total counter
# HELP rabbitmq_detailed_queue_process_reductions_total Total number of queue process reductions
rabbitmq_detailed_queue_process_reductions_total{vhost="v2",queue="q1"} 6715
rabbitmq_detailed_queue_process_reductions_total{vhost="/",queue="q1"} 6739
# TYPE rabbitmq_detailed_queue_consumers gauge
# HELP rabbitmq_detailed_queue_consumers Consumers on a queue
rabbitmq_detailed_queue_consumers{vhost="v2",queue="q1"} 1
rabbitmq_detailed_queue_consumers{vhost="/",queue="q1"} 0
# TYPE rabbitmq_build_info untyped
rabbitmq_build_info{rabbitmq_version="3.10.8",prometheus_plugin_version="3.10.8",prometheus_client_version="4.9.1",erlang_version="25.2.3"} 1
`;

describe("RabbitMQ's Prometheus endpoint", () => {
  it('reads depth and consumers per vhost and queue from /metrics/detailed', () => {
    expect(queuesFromDetailedMetrics(CAPTURED)).toEqual([
      { name: 'q1', vhost: 'v2', messages_ready: 1, messages_unacknowledged: 2, messages: 3, consumers: 1 },
      { name: 'q1', vhost: '/', messages_ready: 0, messages_unacknowledged: 0, messages: 0, consumers: 0 },
      { name: 'odd "name"\\x', vhost: '/', messages_ready: 7 },
    ]);
  });

  it('parses lines with and without labels, and a timestamp', () => {
    expect(parseSampleLine('up 1')).toEqual({ name: 'up', labels: {}, value: 1 });
    expect(parseSampleLine('a{b="c,d}",e="f"} 2.5 1700000000000')).toEqual({ name: 'a', labels: { b: 'c,d}', e: 'f' }, value: 2.5 });
  });
});

describe('the collector when management statistics are disabled', () => {
  // The management API still lists queues and the topology, but without any count.
  const management: ManagementClient = {
    queues: async (): Promise<ManagementQueue[]> => [
      { name: 'work', vhost: '/', arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'parking' } },
      { name: 'parking', vhost: '/' },
    ],
    bindings: async () => [],
    exchanges: async () => [],
    statisticsDisabled: async () => true,
  };
  const prometheus: PrometheusEndpointClient = {
    queues: async () => [
      { name: 'work', vhost: '/', messages_ready: 4, messages_unacknowledged: 1, messages: 5, consumers: 2 },
      { name: 'parking', vhost: '/', messages_ready: 3, messages_unacknowledged: 0, messages: 3, consumers: 0 },
    ],
  };

  it('takes depth and consumers from the Prometheus endpoint and the DLQ topology from the management API', async () => {
    const collector = createRabbitMqCollector({ config: { managementUrl: 'http://unused', prometheusUrl: 'http://unused:15692' }, management, prometheus });
    const s = await collector.collect();
    expect(s).toMatchObject({ source: 'prometheus', degraded: false });
    expect(s.queues.find((q) => q.queue === 'work')).toMatchObject({ ready: 4, unacked: 1, consumers: 2 });
    expect(s.dlqs).toEqual([expect.objectContaining({ dlq: 'parking', sources: ['work'], depth: 3 })]);
    expect(s.warnings.join()).toMatch(/statistics are disabled/);
  });

  it('without a Prometheus endpoint, says the depths are unknown and marks the collection degraded', async () => {
    const s = await createRabbitMqCollector({ config: { managementUrl: 'http://unused' }, management }).collect();
    expect(s).toMatchObject({ source: 'management', degraded: true });
    expect(s.warnings.join()).toMatch(/Prometheus endpoint/);
  });

  it('reads the Prometheus endpoint when the management API does not answer at all', async () => {
    const down: ManagementClient = { ...management, queues: () => Promise.reject(new Error('connect ECONNREFUSED')) };
    const s = await createRabbitMqCollector({ config: { managementUrl: 'http://unused', prometheusUrl: 'http://unused:15692', dlqPatterns: ['parking'] }, management: down, prometheus }).collect();
    expect(s).toMatchObject({ source: 'prometheus', degraded: false });
    expect(s.queues.map((q) => q.queue)).toEqual(['work', 'parking']);
    expect(s.warnings.join()).toMatch(/ECONNREFUSED/);
  });
});

describe("RabbitMQ's Prometheus endpoint over https", () => {
  it('trusts the CA file given for an https endpoint, and refuses the certificate without it', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'eda-prom-tls-'));
    const tls = await makeRabbitTlsFiles(runDir);
    const server = createServer({ key: readFileSync(tls.keyFile), cert: readFileSync(tls.certFile) }, (_req, res) => void res.end(CAPTURED));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
      const queues = await createPrometheusEndpointClient({ url, caFile: tls.caFile }).queues();
      expect(queues.find((q) => q.vhost === 'v2')).toMatchObject({ name: 'q1', messages_ready: 1, consumers: 1 });
      await expect(createPrometheusEndpointClient({ url }).queues()).rejects.toThrow(/^RabbitMQ Prometheus endpoint: .*certificate/);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      rmSync(runDir, { recursive: true, force: true });
    }
  }, 30_000);
});
