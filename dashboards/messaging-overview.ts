import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { E2E_STAGE, KAFKA_CONSUMER_STATUS, LABEL as L, METRIC } from '@eda-harness/semconv';
import { build, dashboard, heatmap, labelVariable, row, stat, timeseries } from './dashboard-kit';

/** Messaging overview: throughput, end-to-end latency, errors, dead letters and the worst lag. */
export function messagingOverview(): Dashboard {
  // Instrumented services are told apart by their scrape job; "All" matches every value.
  const svc = `job=~"$service", ${L.MESSAGING_DESTINATION_NAME}=~"$destination"`;
  const processed = `${svc}, ${L.STAGE}="${E2E_STAGE.PROCESSED}"`;
  const e2eBucket = `${METRIC.E2E_LATENCY.name}_bucket`;
  const quantile = (q: number) => ({
    expr: `histogram_quantile(${q}, sum by (le, ${L.MESSAGING_DESTINATION_NAME}) (rate(${e2eBucket}{${processed}}[$__rate_interval])))`,
    legend: `p${Math.round(q * 100)} {{${L.MESSAGING_DESTINATION_NAME}}}`,
    exemplar: true,
  });
  const consumed = METRIC.CONSUMED_MESSAGES.name;
  const sent = METRIC.SENT_MESSAGES.name;
  const outcomes = METRIC.MESSAGES_PROCESSED.name;
  return build(
    dashboard('eda-messaging-overview', 'eda-harness / Messaging overview', 'Produced and consumed messages, end-to-end latency, errors, dead letters and consumer lag across Kafka and RabbitMQ.')
      .withVariable(labelVariable('service', 'job', consumed, 'Service'))
      .withVariable(labelVariable('destination', L.MESSAGING_DESTINATION_NAME, consumed, 'Destination', 'job=~"$service"'))
      .withRow(row('Health at a glance'))
      .withPanel(
        stat('p99 end-to-end latency', 'Produced-at header to processing done, 99th percentile over all selected destinations.', 's', {
          expr: `histogram_quantile(0.99, sum by (le) (rate(${e2eBucket}{${processed}}[$__rate_interval])))`,
          legend: 'p99',
        }),
      )
      .withPanel(stat('Worst consumer lag', 'The oldest unconsumed Kafka message of any group (exporter).', 's', { expr: `max(${METRIC.KAFKA_CONSUMER_LAG_SECONDS.name})`, legend: 'lag' }))
      .withPanel(
        stat('Dead-lettered per second', 'Messages consumers sent to a dead-letter destination.', 'short', {
          expr: `sum(rate(${METRIC.DLQ_MESSAGES.name}[$__rate_interval])) or vector(0)`,
          legend: 'dlq/s',
        }),
      )
      .withPanel(
        stat('Consumer groups not OK', 'Kafka groups whose Burrow-style status is WARN, STALL, STOP or ERR.', 'short', {
          expr: `count(${METRIC.KAFKA_CONSUMER_STATUS.name} != ${KAFKA_CONSUMER_STATUS.OK}) or vector(0)`,
          legend: 'groups',
        }),
      )
      .withRow(row('Throughput'))
      .withPanel(
        timeseries('Produced per second', 'Messages sent, by system and destination.', 'short', [
          { expr: `sum by (${L.MESSAGING_SYSTEM}, ${L.MESSAGING_DESTINATION_NAME}) (rate(${sent}{${svc}}[$__rate_interval]))`, legend: `{{${L.MESSAGING_SYSTEM}}} {{${L.MESSAGING_DESTINATION_NAME}}}` },
        ]),
      )
      .withPanel(
        timeseries('Consumed per second', 'Deliveries handed to handlers, by system and destination (redeliveries included).', 'short', [
          { expr: `sum by (${L.MESSAGING_SYSTEM}, ${L.MESSAGING_DESTINATION_NAME}) (rate(${consumed}{${svc}}[$__rate_interval]))`, legend: `{{${L.MESSAGING_SYSTEM}}} {{${L.MESSAGING_DESTINATION_NAME}}}` },
        ]),
      )
      .withRow(row('Latency'))
      .withPanel(timeseries('End-to-end latency', 'Produced-at to processing done; points are exemplars linking to the trace of that message.', 's', [quantile(0.5), quantile(0.95), quantile(0.99)]))
      .withPanel(
        heatmap('End-to-end latency distribution', 'Every processed message by end-to-end latency bucket; exemplars link to traces.', {
          expr: `sum by (le) (rate(${e2eBucket}{${processed}}[$__rate_interval]))`,
          legend: '{{le}}',
          exemplar: true,
        }),
      )
      .withPanel(
        timeseries('Processing time (p95)', 'Handler duration, 95th percentile by destination; exemplars link to traces.', 's', [
          {
            expr: `histogram_quantile(0.95, sum by (le, ${L.MESSAGING_DESTINATION_NAME}) (rate(${METRIC.PROCESS_DURATION.name}_bucket{${svc}}[$__rate_interval])))`,
            legend: `{{${L.MESSAGING_DESTINATION_NAME}}}`,
            exemplar: true,
          },
        ]),
      )
      .withPanel(
        timeseries('Send time (p95)', 'Producer send to broker acknowledgement, 95th percentile by destination.', 's', [
          {
            expr: `histogram_quantile(0.95, sum by (le, ${L.MESSAGING_DESTINATION_NAME}) (rate(${METRIC.OPERATION_DURATION.name}_bucket{${svc}}[$__rate_interval])))`,
            legend: `{{${L.MESSAGING_DESTINATION_NAME}}}`,
            exemplar: true,
          },
        ]),
      )
      .withRow(row('Errors and dead letters'))
      .withPanel(
        timeseries('Error ratio', 'Share of sends, and of processed messages, that failed (0 when nothing failed). Processing failures: handler errors, nacks, rejects, unsettled deliveries.', 'percentunit', [
          {
            expr: `(sum by (${L.MESSAGING_DESTINATION_NAME}) (rate(${outcomes}{${svc}, ${L.ERROR_TYPE}!=""}[$__rate_interval])) or 0 * sum by (${L.MESSAGING_DESTINATION_NAME}) (rate(${outcomes}{${svc}}[$__rate_interval]))) / sum by (${L.MESSAGING_DESTINATION_NAME}) (rate(${outcomes}{${svc}}[$__rate_interval]))`,
            legend: 'processing {{' + L.MESSAGING_DESTINATION_NAME + '}}',
          },
          {
            expr: `(sum by (${L.MESSAGING_DESTINATION_NAME}) (rate(${sent}{${svc}, ${L.ERROR_TYPE}!=""}[$__rate_interval])) or 0 * sum by (${L.MESSAGING_DESTINATION_NAME}) (rate(${sent}{${svc}}[$__rate_interval]))) / sum by (${L.MESSAGING_DESTINATION_NAME}) (rate(${sent}{${svc}}[$__rate_interval]))`,
            legend: 'send {{' + L.MESSAGING_DESTINATION_NAME + '}}',
          },
        ]),
      )
      .withPanel(
        timeseries('Dead-lettered per second', 'Messages consumers sent to a dead-letter destination, by source and reason.', 'short', [
          { expr: `sum by (${L.SOURCE}, ${L.REASON}) (rate(${METRIC.DLQ_MESSAGES.name}{${L.SOURCE}=~"$destination"}[$__rate_interval]))`, legend: `{{${L.SOURCE}}} {{${L.REASON}}}` },
        ]),
      )
      .withRow(row('Consumers'))
      .withPanel(
        timeseries('Worst lag per group', 'Age of the oldest unconsumed message per Kafka consumer group (exporter).', 's', [
          { expr: `max by (${L.GROUP}) (${METRIC.KAFKA_CONSUMER_LAG_SECONDS.name})`, legend: `{{${L.GROUP}}}` },
        ]),
      )
      .withPanel(
        timeseries('Messages in flight', 'Handed to a handler and not yet finished or settled.', 'short', [
          { expr: `sum by (${L.MESSAGING_DESTINATION_NAME}) (${METRIC.IN_FLIGHT.name}{${svc}})`, legend: `{{${L.MESSAGING_DESTINATION_NAME}}}` },
        ]),
      ),
  );
}
