import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { LABEL as L, METRIC } from '@eda-harness/semconv';
import { build, clusterMatchers, clusterVariable, dashboard, labelVariable, row, timeseries, type ResolvedDashboardOptions } from './dashboard-kit';

/** Dead letters: why and from where messages are dead-lettered, how many wait, and for how long. */
export function deadLetters(o: ResolvedDashboardOptions): Dashboard {
  const C = o.clusterLabel;
  const cm = clusterMatchers(o);
  // Kafka DLQs have no vhost: they stay on screen whatever vhost is selected.
  const d = `${cm.exporter}, ${L.VHOST}=~"$vhost|", ${L.DLQ}=~"$dlq"`;
  // Instrumentation series: no vhost, cluster only where the scrape configuration adds it.
  const di = `${cm.instrumentation}, ${L.DLQ}=~"$dlq"`;
  const dlqMessages = METRIC.DLQ_MESSAGES.name;
  return build(
    dashboard('eda-dead-letters', 'eda-harness / Dead letters', 'Dead-letter rate by source and reason, DLQ depth and oldest message age, and the share of throughput that ends in a DLQ. DLQs are found by pattern or DLX arguments, never by a hard-coded name.')
      .withVariable(clusterVariable(o, METRIC.EXPORTER_UP.name))
      .withVariable(labelVariable('vhost', L.VHOST, METRIC.DLQ_DEPTH.name, 'Vhost (RabbitMQ)', cm.exporter))
      .withVariable(labelVariable('dlq', L.DLQ, METRIC.DLQ_DEPTH.name, 'Dead-letter destination', `${cm.exporter}, ${L.VHOST}=~"$vhost|"`))
      .withRow(row('Inflow'))
      .withPanel(
        timeseries('Dead-lettered by source and reason', 'Messages consumers dead-lettered (instrumentation), per source and reason.', 'mps', [
          { expr: `sum by (${L.SOURCE}, ${L.REASON}) (rate(${dlqMessages}{${di}}[$__rate_interval]))`, legend: `{{${L.SOURCE}}} {{${L.REASON}}}` },
        ]),
      )
      .withPanel(
        timeseries('Entering each DLQ', 'Messages arriving in each dead-letter topic or queue, by source (exporter; includes broker-side dead-lettering such as TTL expiry).', 'mps', [
          // vhost: RabbitMQ DLQs of one name in two vhosts stay apart (empty on Kafka series).
          { expr: `sum by (${C}, ${L.VHOST}, ${L.DLQ}, ${L.SOURCE}) (rate(${METRIC.DLQ_INFLOW.name}{${d}}[$__rate_interval]))`, legend: `{{${C}}} {{${L.VHOST}}} {{${L.SOURCE}}} → {{${L.DLQ}}}` },
        ]),
      )
      .withPanel(
        timeseries('Share of throughput dead-lettered', 'Dead-lettered ÷ consumed, per source and consumer group (as DeadLetterRatioHigh computes it).', 'percentunit', [
          {
            expr: `sum by (${L.SOURCE}, ${L.MESSAGING_CONSUMER_GROUP_NAME}) (rate(${dlqMessages}{${di}}[$__rate_interval])) / sum by (${L.SOURCE}, ${L.MESSAGING_CONSUMER_GROUP_NAME}) (label_replace(rate(${METRIC.CONSUMED_MESSAGES.name}{${cm.instrumentation}}[$__rate_interval]), "${L.SOURCE}", "$1", "${L.MESSAGING_DESTINATION_NAME}", "(.*)"))`,
            legend: `{{${L.SOURCE}}} {{${L.MESSAGING_CONSUMER_GROUP_NAME}}}`,
          },
        ]),
      )
      .withRow(row('Backlog'))
      .withPanel(
        timeseries('DLQ depth', 'Messages waiting in each dead-letter destination.', 'short', [
          { expr: `max by (${C}, ${L.SYSTEM}, ${L.VHOST}, ${L.DLQ}) (${METRIC.DLQ_DEPTH.name}{${d}})`, legend: `{{${C}}} {{${L.SYSTEM}}} {{${L.VHOST}}} {{${L.DLQ}}}` },
        ]),
      )
      .withPanel(
        timeseries('Oldest dead letter', 'Age of the oldest message in each dead-letter destination.', 's', [
          { expr: `max by (${C}, ${L.SYSTEM}, ${L.VHOST}, ${L.DLQ}) (${METRIC.DLQ_OLDEST_AGE.name}{${d}})`, legend: `{{${C}}} {{${L.SYSTEM}}} {{${L.VHOST}}} {{${L.DLQ}}}` },
        ]),
      ),
  );
}
