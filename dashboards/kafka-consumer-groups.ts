import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { KAFKA_CONSUMER_EVENT, KAFKA_CONSUMER_STATUS, LABEL as L, METRIC } from '@eda-harness/semconv';
import { build, dashboard, labelVariable, row, stateTimeline, timeseries } from './dashboard-kit';

const STATUS_COLORS: Record<keyof typeof KAFKA_CONSUMER_STATUS, string> = { OK: 'green', WARN: 'yellow', STALL: 'orange', STOP: 'red', ERR: 'dark-red', REWIND: 'purple' };

/** Kafka consumer groups: lag per partition, time to drain, commits, status, members, rebalances. */
export function kafkaConsumerGroups(): Dashboard {
  const gt = `${L.GROUP}=~"$group", ${L.TOPIC}=~"$topic"`;
  const lagMessages = METRIC.KAFKA_CONSUMER_LAG_MESSAGES.name;
  const states = Object.fromEntries(
    (Object.entries(KAFKA_CONSUMER_STATUS) as [keyof typeof KAFKA_CONSUMER_STATUS, number][]).map(([name, value]) => [value, { text: name, color: STATUS_COLORS[name] }]),
  );
  return build(
    dashboard('eda-kafka-consumer-groups', 'eda-harness / Kafka consumer groups', 'Per-partition lag in messages and seconds, time to drain, commit age, Burrow-style status, members and rebalances (eda-harness exporter and instrumentation).')
      .withVariable(labelVariable('group', L.GROUP, lagMessages, 'Consumer group'))
      .withVariable(labelVariable('topic', L.TOPIC, lagMessages, 'Topic', `${L.GROUP}=~"$group"`))
      .withRow(row('Lag'))
      .withPanel(
        timeseries('Lag (messages) per partition', 'Log-end offset minus committed offset; never negative.', 'short', [
          { expr: `max by (${L.GROUP}, ${L.TOPIC}, ${L.PARTITION}) (${lagMessages}{${gt}})`, legend: `{{${L.GROUP}}} {{${L.TOPIC}}}/{{${L.PARTITION}}}` },
        ]),
      )
      .withPanel(
        timeseries('Lag (seconds) per partition', 'Age of the oldest unconsumed message; 0 when caught up.', 's', [
          { expr: `max by (${L.GROUP}, ${L.TOPIC}, ${L.PARTITION}) (${METRIC.KAFKA_CONSUMER_LAG_SECONDS.name}{${gt}})`, legend: `{{${L.GROUP}}} {{${L.TOPIC}}}/{{${L.PARTITION}}}` },
        ]),
      )
      .withPanel(
        timeseries('Time to drain', 'Messages waiting ÷ current consumption rate (committed offsets per second over 5m); empty while nothing is consumed.', 's', [
          {
            expr: `sum by (${L.GROUP}, ${L.TOPIC}) (${lagMessages}{${gt}}) / (sum by (${L.GROUP}, ${L.TOPIC}) (deriv(${METRIC.KAFKA_CONSUMER_COMMITTED_OFFSET.name}{${gt}}[5m])) > 0)`,
            legend: `{{${L.GROUP}}} {{${L.TOPIC}}}`,
          },
        ]),
      )
      .withPanel(
        timeseries('Produced vs consumed (offsets per second)', 'Log-end offsets and committed offsets advancing per second: the gap is lag building up.', 'short', [
          { expr: `sum by (${L.TOPIC}) (deriv(${METRIC.KAFKA_PARTITION_HIGH_WATERMARK.name}{${L.TOPIC}=~"$topic"}[5m]))`, legend: 'produced {{' + L.TOPIC + '}}' },
          { expr: `sum by (${L.GROUP}, ${L.TOPIC}) (deriv(${METRIC.KAFKA_CONSUMER_COMMITTED_OFFSET.name}{${gt}}[5m]))`, legend: 'consumed {{' + L.GROUP + '}} {{' + L.TOPIC + '}}' },
        ]),
      )
      .withRow(row('Commits and status'))
      .withPanel(
        timeseries('Last commit age per partition', 'Seconds since the group last moved its committed offset; only alarming while lag exists.', 's', [
          { expr: `time() - max by (${L.GROUP}, ${L.TOPIC}, ${L.PARTITION}) (${METRIC.KAFKA_CONSUMER_LAST_COMMIT.name}{${gt}})`, legend: `{{${L.GROUP}}} {{${L.TOPIC}}}/{{${L.PARTITION}}}` },
        ]),
      )
      .withPanel(
        timeseries('Partitions without a commit', 'Assigned partitions that have no committed offset yet (not reported as lag).', 'short', [
          {
            // The exporter writes the series only while there are such partitions: 0 for every other group.
            expr: `sum by (${L.GROUP}, ${L.TOPIC}) (${METRIC.KAFKA_CONSUMER_UNCOMMITTED_PARTITIONS.name}{${gt}}) or 0 * sum by (${L.GROUP}, ${L.TOPIC}) (${lagMessages}{${gt}})`,
            legend: `{{${L.GROUP}}} {{${L.TOPIC}}}`,
          },
        ]),
      )
      .withPanel(
        stateTimeline('Status over time', 'Burrow-style evaluation per group: OK, WARN (falling steadily behind), REWIND (committed offset moved backwards), STALL (members, offset still under lag), STOP (no members, offset still under lag), ERR (could not be read).', { expr: `max by (${L.GROUP}) (${METRIC.KAFKA_CONSUMER_STATUS.name}{${L.GROUP}=~"$group"})`, legend: `{{${L.GROUP}}}` }, states),
      )
      .withRow(row('Membership'))
      .withPanel(
        timeseries('Members', 'Consumers in the group (exporter).', 'short', [
          { expr: `max by (${L.GROUP}) (${METRIC.KAFKA_CONSUMER_GROUP_MEMBERS.name}{${L.GROUP}=~"$group"})`, legend: `{{${L.GROUP}}}` },
        ]),
      )
      .withPanel(
        timeseries('Group joins and rebalances', 'kafkajs consumer events seen by the instrumentation, per group.', 'short', [
          {
            expr: `sum by (${L.MESSAGING_CONSUMER_GROUP_NAME}, ${L.EVENT}) (increase(${METRIC.KAFKA_CONSUMER_EVENTS.name}{${L.MESSAGING_CONSUMER_GROUP_NAME}=~"$group", ${L.EVENT}=~"${KAFKA_CONSUMER_EVENT.GROUP_JOIN}|${KAFKA_CONSUMER_EVENT.REBALANCING}|${KAFKA_CONSUMER_EVENT.CRASH}"}[$__rate_interval]))`,
            legend: `{{${L.MESSAGING_CONSUMER_GROUP_NAME}}} {{${L.EVENT}}}`,
          },
        ]),
      ),
  );
}
