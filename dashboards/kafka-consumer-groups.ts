import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { KAFKA_CONSUMER_EVENT, KAFKA_CONSUMER_STATUS, LABEL as L, METRIC } from '@eda-harness/semconv';
import { build, clusterMatchers, clusterVariable, dashboard, labelVariable, row, stateTimeline, timeseries, type ResolvedDashboardOptions } from './dashboard-kit';

const STATUS_COLORS: Record<keyof typeof KAFKA_CONSUMER_STATUS, string> = { OK: 'green', WARN: 'yellow', STALL: 'orange', STOP: 'red', ERR: 'dark-red', REWIND: 'purple' };

/** Kafka consumer groups: lag per partition, time to drain, commits, status, members, rebalances. */
export function kafkaConsumerGroups(o: ResolvedDashboardOptions): Dashboard {
  const C = o.clusterLabel;
  const cm = clusterMatchers(o);
  const c = cm.exporter;
  const g = `${c}, ${L.GROUP}=~"$group"`;
  const gt = `${g}, ${L.TOPIC}=~"$topic"`;
  const k = o.partitionTopK;
  // With "All" a per-partition panel would draw every partition of every group (thousands of series).
  const topk = `Only the ${k} partitions with the highest value at each moment are drawn (topk ${k}: the set may change over the range, so the legend can hold more); narrow the group and topic variables to see the others.`;
  const lagMessages = METRIC.KAFKA_CONSUMER_LAG_MESSAGES.name;
  const states = Object.fromEntries(
    (Object.entries(KAFKA_CONSUMER_STATUS) as [keyof typeof KAFKA_CONSUMER_STATUS, number][]).map(([name, value]) => [value, { text: name, color: STATUS_COLORS[name] }]),
  );
  return build(
    dashboard('eda-kafka-consumer-groups', 'eda-harness / Kafka consumer groups', 'Per-partition lag in messages and seconds, time to drain, commit age, Burrow-style status, members and rebalances (eda-harness exporter and instrumentation).')
      .withVariable(clusterVariable(o, METRIC.EXPORTER_UP.name, `${L.TARGET}="kafka"`))
      .withVariable(labelVariable('group', L.GROUP, lagMessages, 'Consumer group', c))
      .withVariable(labelVariable('topic', L.TOPIC, lagMessages, 'Topic', g))
      .withRow(row('Lag'))
      .withPanel(
        timeseries('Lag (messages) per partition', `Log-end offset minus committed offset; never negative. ${topk}`, 'short', [
          { expr: `topk(${k}, max by (${C}, ${L.GROUP}, ${L.TOPIC}, ${L.PARTITION}) (${lagMessages}{${gt}}))`, legend: `{{${C}}} {{${L.GROUP}}} {{${L.TOPIC}}}/{{${L.PARTITION}}}` },
        ]),
      )
      .withPanel(
        timeseries('Lag (seconds) per partition', `Age of the oldest unconsumed message; 0 when caught up. ${topk}`, 's', [
          { expr: `topk(${k}, max by (${C}, ${L.GROUP}, ${L.TOPIC}, ${L.PARTITION}) (${METRIC.KAFKA_CONSUMER_LAG_SECONDS.name}{${gt}}))`, legend: `{{${C}}} {{${L.GROUP}}} {{${L.TOPIC}}}/{{${L.PARTITION}}}` },
        ]),
      )
      .withPanel(
        timeseries('Time to drain', 'Messages waiting ÷ current consumption rate (committed offsets per second over 5m); empty while nothing is consumed.', 's', [
          {
            expr: `sum by (${C}, ${L.GROUP}, ${L.TOPIC}) (${lagMessages}{${gt}}) / (sum by (${C}, ${L.GROUP}, ${L.TOPIC}) (deriv(${METRIC.KAFKA_CONSUMER_COMMITTED_OFFSET.name}{${gt}}[5m])) > 0)`,
            legend: `{{${C}}} {{${L.GROUP}}} {{${L.TOPIC}}}`,
          },
        ]),
      )
      .withPanel(
        timeseries('Produced vs consumed (messages per second)', 'Log-end offsets and committed offsets advancing per second (one offset is one message): the gap is lag building up.', 'mps', [
          { expr: `sum by (${C}, ${L.TOPIC}) (deriv(${METRIC.KAFKA_PARTITION_HIGH_WATERMARK.name}{${c}, ${L.TOPIC}=~"$topic"}[5m]))`, legend: `produced {{${C}}} {{${L.TOPIC}}}` },
          { expr: `sum by (${C}, ${L.GROUP}, ${L.TOPIC}) (deriv(${METRIC.KAFKA_CONSUMER_COMMITTED_OFFSET.name}{${gt}}[5m]))`, legend: `consumed {{${C}}} {{${L.GROUP}}} {{${L.TOPIC}}}` },
        ]),
      )
      .withRow(row('Commits and status'))
      .withPanel(
        timeseries('Last commit age per partition', `Seconds since the group last moved its committed offset; only alarming while lag exists. ${topk}`, 's', [
          { expr: `topk(${k}, time() - max by (${C}, ${L.GROUP}, ${L.TOPIC}, ${L.PARTITION}) (${METRIC.KAFKA_CONSUMER_LAST_COMMIT.name}{${gt}}))`, legend: `{{${C}}} {{${L.GROUP}}} {{${L.TOPIC}}}/{{${L.PARTITION}}}` },
        ]),
      )
      .withPanel(
        timeseries('Partitions without a commit', 'Assigned partitions that have no committed offset yet (not reported as lag).', 'short', [
          {
            // The exporter writes the series only while there are such partitions: 0 for every other group.
            expr: `sum by (${C}, ${L.GROUP}, ${L.TOPIC}) (${METRIC.KAFKA_CONSUMER_UNCOMMITTED_PARTITIONS.name}{${gt}}) or 0 * sum by (${C}, ${L.GROUP}, ${L.TOPIC}) (${lagMessages}{${gt}})`,
            legend: `{{${C}}} {{${L.GROUP}}} {{${L.TOPIC}}}`,
          },
        ]),
      )
      .withPanel(
        timeseries('Messages lost to retention', 'Messages retention deleted before the group read them (log-start offset above the committed offset), per group and topic; 0 when none were lost. Lag cannot show these: they are gone.', 'short', [
          {
            // The exporter writes the series only for partitions that lost messages: 0 for every other group.
            expr: `sum by (${C}, ${L.GROUP}, ${L.TOPIC}) (${METRIC.KAFKA_CONSUMER_RETENTION_LOST.name}{${gt}}) or 0 * sum by (${C}, ${L.GROUP}, ${L.TOPIC}) (${lagMessages}{${gt}})`,
            legend: `{{${C}}} {{${L.GROUP}}} {{${L.TOPIC}}}`,
          },
        ]),
      )
      .withPanel(
        stateTimeline('Status over time', 'Burrow-style evaluation per group: OK, WARN (falling steadily behind), REWIND (committed offset moved backwards), STALL (members, offset still under lag), STOP (no members, offset still under lag), ERR (could not be read).', { expr: `max by (${C}, ${L.GROUP}) (${METRIC.KAFKA_CONSUMER_STATUS.name}{${g}})`, legend: `{{${C}}} {{${L.GROUP}}}` }, states),
      )
      .withRow(row('Membership'))
      .withPanel(
        timeseries('Members', 'Consumers in the group (exporter). Manual-assignment groups (assign() + commit: Flink, Spark, Connect) have no member count; see "Groups by assignment".', 'short', [
          { expr: `max by (${C}, ${L.GROUP}) (${METRIC.KAFKA_CONSUMER_GROUP_MEMBERS.name}{${g}})`, legend: `{{${C}}} {{${L.GROUP}}}` },
        ]),
      )
      .withPanel(
        timeseries('Groups by assignment', 'Groups that subscribe (consumer: the group protocol hands out partitions) and groups that assign partitions themselves (manual). Manual groups are judged by offset movement, never by members.', 'short', [
          { expr: `count by (${C}, ${L.ASSIGNMENT}) (${METRIC.KAFKA_CONSUMER_GROUP_ASSIGNMENT.name}{${g}} == 1)`, legend: `{{${C}}} {{${L.ASSIGNMENT}}}` },
        ]),
      )
      .withPanel(
        timeseries('Group joins and rebalances', 'kafkajs consumer events seen by the instrumentation, per group.', 'short', [
          {
            expr: `sum by (${L.MESSAGING_CONSUMER_GROUP_NAME}, ${L.EVENT}) (increase(${METRIC.KAFKA_CONSUMER_EVENTS.name}{${cm.instrumentation}, ${L.MESSAGING_CONSUMER_GROUP_NAME}=~"$group", ${L.EVENT}=~"${KAFKA_CONSUMER_EVENT.GROUP_JOIN}|${KAFKA_CONSUMER_EVENT.REBALANCING}|${KAFKA_CONSUMER_EVENT.CRASH}"}[$__rate_interval]))`,
            legend: `{{${L.MESSAGING_CONSUMER_GROUP_NAME}}} {{${L.EVENT}}}`,
          },
        ]),
      ),
  );
}
