import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { E2E_STAGE, LABEL as L, MESSAGING_SYSTEM, METRIC, RABBITMQ_QUEUE_OPERATION } from '@eda-harness/semconv';
import { build, clusterMatchers, clusterVariable, dashboard, labelVariable, row, timeseries, type ResolvedDashboardOptions } from './dashboard-kit';

/** RabbitMQ queues: depth by state, consumers, message rates, redeliveries, waiting time, dead-lettering. */
export function rabbitmqQueues(o: ResolvedDashboardOptions): Dashboard {
  // One queue name may live in several vhosts and clusters: every query keeps them apart.
  const C = o.clusterLabel;
  const cm = clusterMatchers(o);
  const cv = `${cm.exporter}, ${L.VHOST}=~"$vhost"`;
  const q = `${cv}, ${L.QUEUE}=~"$queue"`;
  const operations = METRIC.RABBITMQ_QUEUE_OPERATIONS.name;
  const ops = `${L.MESSAGING_OPERATION_NAME}=~"${RABBITMQ_QUEUE_OPERATION.PUBLISH}|${RABBITMQ_QUEUE_OPERATION.DELIVER}|${RABBITMQ_QUEUE_OPERATION.ACK}"`;
  // Instrumentation series carry no vhost: they are told apart by queue name only.
  const consumedHere = `${cm.instrumentation}, ${L.MESSAGING_SYSTEM}="${MESSAGING_SYSTEM.RABBITMQ}", ${L.MESSAGING_DESTINATION_NAME}=~"$queue"`;
  return build(
    dashboard('eda-rabbitmq-queues', 'eda-harness / RabbitMQ queues', 'Ready and unacknowledged messages, consumers, publish / deliver / ack rates, redeliveries, time in queue and dead-lettering per queue.')
      .withVariable(clusterVariable(o, METRIC.EXPORTER_UP.name, `${L.TARGET}="rabbitmq"`))
      .withVariable(labelVariable('vhost', L.VHOST, METRIC.RABBITMQ_QUEUE_MESSAGES.name, 'Vhost', cm.exporter))
      .withVariable(labelVariable('queue', L.QUEUE, METRIC.RABBITMQ_QUEUE_MESSAGES.name, 'Queue', cv))
      .withRow(row('Depth'))
      .withPanel(
        timeseries('Messages by state', 'Ready (waiting for a consumer) and unacked (delivered, not yet settled).', 'short', [
          { expr: `sum by (${C}, ${L.VHOST}, ${L.QUEUE}, ${L.STATE}) (${METRIC.RABBITMQ_QUEUE_MESSAGES.name}{${q}})`, legend: `{{${C}}} {{${L.VHOST}}} {{${L.QUEUE}}} {{${L.STATE}}}` },
        ]),
      )
      .withPanel(
        timeseries('Consumers', 'Consumers attached to each queue.', 'short', [
          { expr: `max by (${C}, ${L.VHOST}, ${L.QUEUE}) (${METRIC.RABBITMQ_QUEUE_CONSUMERS.name}{${q}})`, legend: `{{${C}}} {{${L.VHOST}}} {{${L.QUEUE}}}` },
        ]),
      )
      .withRow(row('Flow'))
      .withPanel(
        timeseries('Publish / deliver / ack rate', "Per-queue rates from RabbitMQ's cumulative management API counts (messages per second).", 'mps', [
          {
            // The deprecated smoothed gauge only where no counter exists (an exporter before the counters).
            expr:
              `sum by (${C}, ${L.VHOST}, ${L.QUEUE}, ${L.MESSAGING_OPERATION_NAME}) (rate(${operations}{${q}, ${ops}}[$__rate_interval])) ` +
              `or max by (${C}, ${L.VHOST}, ${L.QUEUE}, ${L.MESSAGING_OPERATION_NAME}) (${METRIC.RABBITMQ_QUEUE_MESSAGE_RATE.name}{${q}, ${ops}})`,
            legend: `{{${C}}} {{${L.VHOST}}} {{${L.QUEUE}}} {{${L.MESSAGING_OPERATION_NAME}}}`,
          },
        ]),
      )
      .withPanel(
        timeseries('Redelivery ratio', 'Share of deliveries flagged redelivered (a handler that nacks with requeue makes this climb); 0 when none.', 'percentunit', [
          {
            expr: `(sum by (${L.MESSAGING_DESTINATION_NAME}) (rate(${METRIC.REDELIVERIES.name}{${consumedHere}}[$__rate_interval])) or 0 * sum by (${L.MESSAGING_DESTINATION_NAME}) (rate(${METRIC.CONSUMED_MESSAGES.name}{${consumedHere}}[$__rate_interval]))) / sum by (${L.MESSAGING_DESTINATION_NAME}) (rate(${METRIC.CONSUMED_MESSAGES.name}{${consumedHere}}[$__rate_interval]))`,
            legend: `{{${L.MESSAGING_DESTINATION_NAME}}}`,
          },
        ]),
      )
      .withPanel(
        timeseries('Time in queue before delivery (p99)', 'Produced-at to handler start for RabbitMQ consumers: how long the oldest messages waited. Exemplars link to traces.', 's', [
          {
            expr: `histogram_quantile(0.99, sum by (le, ${L.MESSAGING_DESTINATION_NAME}) (rate(${METRIC.E2E_LATENCY.name}_bucket{${consumedHere}, ${L.STAGE}="${E2E_STAGE.RECEIVED}"}[$__rate_interval])))`,
            legend: `{{${L.MESSAGING_DESTINATION_NAME}}}`,
            exemplar: true,
          },
        ]),
      )
      .withPanel(
        timeseries('Dead-lettered by source queue', 'Messages that entered a RabbitMQ dead-letter queue, attributed to the queue they came from (exporter).', 'mps', [
          {
            expr: `sum by (${C}, ${L.VHOST}, ${L.SOURCE}, ${L.DLQ}) (rate(${METRIC.DLQ_INFLOW.name}{${cv}, ${L.SYSTEM}="${MESSAGING_SYSTEM.RABBITMQ}", ${L.SOURCE}=~"$queue"}[$__rate_interval]))`,
            legend: `{{${C}}} {{${L.VHOST}}} {{${L.SOURCE}}} → {{${L.DLQ}}}`,
          },
        ]),
      ),
  );
}
