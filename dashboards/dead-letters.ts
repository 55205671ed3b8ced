import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { LABEL as L, METRIC } from '@eda-harness/semconv';
import { build, dashboard, labelVariable, row, timeseries } from './dashboard-kit';

/** Dead letters: why and from where messages are dead-lettered, how many wait, and for how long. */
export function deadLetters(): Dashboard {
  const d = `${L.DLQ}=~"$dlq"`;
  const dlqMessages = METRIC.DLQ_MESSAGES.name;
  return build(
    dashboard('eda-dead-letters', 'eda-harness / Dead letters', 'Dead-letter rate by source and reason, DLQ depth and oldest message age, and the share of throughput that ends in a DLQ. DLQs are found by pattern or DLX arguments, never by a hard-coded name.')
      .withVariable(labelVariable('dlq', L.DLQ, METRIC.DLQ_DEPTH.name, 'Dead-letter destination'))
      .withRow(row('Inflow'))
      .withPanel(
        timeseries('Dead-lettered by source and reason', 'Messages consumers dead-lettered (instrumentation), per source and reason.', 'short', [
          { expr: `sum by (${L.SOURCE}, ${L.REASON}) (rate(${dlqMessages}{${d}}[$__rate_interval]))`, legend: `{{${L.SOURCE}}} {{${L.REASON}}}` },
        ]),
      )
      .withPanel(
        timeseries('Entering each DLQ', 'Messages arriving in each dead-letter topic or queue, by source (exporter; includes broker-side dead-lettering such as TTL expiry).', 'short', [
          // vhost: RabbitMQ DLQs of one name in two vhosts stay apart (empty on Kafka series).
          { expr: `sum by (${L.VHOST}, ${L.DLQ}, ${L.SOURCE}) (rate(${METRIC.DLQ_INFLOW.name}{${d}}[$__rate_interval]))`, legend: `{{${L.VHOST}}} {{${L.SOURCE}}} → {{${L.DLQ}}}` },
        ]),
      )
      .withPanel(
        timeseries('Share of throughput dead-lettered', 'Dead-lettered ÷ consumed, per source.', 'percentunit', [
          {
            expr: `sum by (${L.SOURCE}) (rate(${dlqMessages}{${d}}[$__rate_interval])) / sum by (${L.SOURCE}) (label_replace(rate(${METRIC.CONSUMED_MESSAGES.name}[$__rate_interval]), "${L.SOURCE}", "$1", "${L.MESSAGING_DESTINATION_NAME}", "(.*)"))`,
            legend: `{{${L.SOURCE}}}`,
          },
        ]),
      )
      .withRow(row('Backlog'))
      .withPanel(
        timeseries('DLQ depth', 'Messages waiting in each dead-letter destination.', 'short', [
          { expr: `max by (${L.SYSTEM}, ${L.VHOST}, ${L.DLQ}) (${METRIC.DLQ_DEPTH.name}{${d}})`, legend: `{{${L.SYSTEM}}} {{${L.VHOST}}} {{${L.DLQ}}}` },
        ]),
      )
      .withPanel(
        timeseries('Oldest dead letter', 'Age of the oldest message in each dead-letter destination.', 's', [
          { expr: `max by (${L.SYSTEM}, ${L.VHOST}, ${L.DLQ}) (${METRIC.DLQ_OLDEST_AGE.name}{${d}})`, legend: `{{${L.SYSTEM}}} {{${L.VHOST}}} {{${L.DLQ}}}` },
        ]),
      ),
  );
}
