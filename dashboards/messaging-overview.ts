import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { E2E_STAGE, KAFKA_CONSUMER_STATUS, LABEL as L, METRIC } from '@eda-harness/semconv';
import { build, clusterMatchers, clusterVariable, dashboard, heatmap, labelVariable, row, serviceSeries, serviceVariable, stat, timeseries, type ResolvedDashboardOptions } from './dashboard-kit';

/**
 * Kafka groups whose status stayed STOP (no members, offset not moving under lag) for the whole
 * `abandonedAfter` window: left behind by a decommissioned service. They would sit on top of every
 * "worst lag" panel forever, so those panels leave them out and a stat counts them.
 * Manual-assignment groups never count as members, but the exporter judges them by offset
 * movement, so a working one is not STOP.
 */
export function abandonedGroups(o: ResolvedDashboardOptions): string {
  const status = `${METRIC.KAFKA_CONSUMER_STATUS.name}{${clusterMatchers(o).exporter}}`;
  return `(min_over_time(${status}[${o.abandonedAfter}]) == ${KAFKA_CONSUMER_STATUS.STOP} and max_over_time(${status}[${o.abandonedAfter}]) == ${KAFKA_CONSUMER_STATUS.STOP})`;
}

/** Messaging overview: throughput, end-to-end latency, errors, dead letters and the worst lag. */
export function messagingOverview(o: ResolvedDashboardOptions): Dashboard {
  const C = o.clusterLabel;
  const cm = clusterMatchers(o);
  // Instrumented services by service_name: their own, their target's eda_service_info, else the scrape job (serviceSeries).
  const app = `${cm.instrumentation}, ${L.MESSAGING_DESTINATION_NAME}=~"$destination"`;
  const sel = (metric: string, extra = '') => serviceSeries(metric, extra ? `${app}, ${extra}` : app, undefined, cm.instrumentation);
  const rate = (metric: string, extra = '') => serviceSeries(metric, extra ? `${app}, ${extra}` : app, (s) => `rate(${s}[$__rate_interval])`, cm.instrumentation);
  const processed = `${L.STAGE}="${E2E_STAGE.PROCESSED}"`;
  const e2eBucket = `${METRIC.E2E_LATENCY.name}_bucket`;
  const quantile = (q: number) => ({
    expr: `histogram_quantile(${q}, sum by (le, ${L.MESSAGING_DESTINATION_NAME}) (${rate(e2eBucket, processed)}))`,
    legend: `p${Math.round(q * 100)} {{${L.MESSAGING_DESTINATION_NAME}}}`,
    exemplar: true,
  });
  const consumed = METRIC.CONSUMED_MESSAGES.name;
  const sent = METRIC.SENT_MESSAGES.name;
  const outcomes = METRIC.MESSAGES_PROCESSED.name;
  // Exporter lag of the selected clusters and destinations (topics), abandoned groups left out.
  const lagSeconds = `${METRIC.KAFKA_CONSUMER_LAG_SECONDS.name}{${cm.exporter}, ${L.TOPIC}=~"$destination"} unless on (${C}, ${L.GROUP}) ${abandonedGroups(o)}`;
  const errorRatio = (metric: string) =>
    `(sum by (${L.MESSAGING_DESTINATION_NAME}) (${rate(metric, `${L.ERROR_TYPE}!=""`)}) or 0 * sum by (${L.MESSAGING_DESTINATION_NAME}) (${rate(metric)})) / sum by (${L.MESSAGING_DESTINATION_NAME}) (${rate(metric)})`;
  return build(
    dashboard('eda-messaging-overview', 'eda-harness / Messaging overview', 'Produced and consumed messages, end-to-end latency, errors, dead letters and consumer lag across Kafka and RabbitMQ.')
      .withVariable(clusterVariable(o, METRIC.EXPORTER_UP.name))
      .withVariable(serviceVariable(consumed))
      .withVariable(labelVariable('destination', L.MESSAGING_DESTINATION_NAME, consumed, 'Destination'))
      .withRow(row('Health at a glance'))
      .withPanel(
        stat('p99 end-to-end latency', 'Produced-at header to processing done, 99th percentile over all selected destinations.', 's', {
          expr: `histogram_quantile(0.99, sum by (le) (${rate(e2eBucket, processed)}))`,
          legend: 'p99',
        }),
      )
      .withPanel(
        stat('Worst consumer lag', `The oldest unconsumed Kafka message of any group on the selected clusters and destinations (exporter). Abandoned groups (status STOP for ${o.abandonedAfter}) are left out: see "Abandoned consumer groups".`, 's', {
          expr: `max(${lagSeconds})`,
          legend: 'lag',
        }, 4),
      )
      .withPanel(
        stat('Dead-lettered per second', 'Messages consumers sent to a dead-letter destination.', 'mps', {
          expr: `sum(rate(${METRIC.DLQ_MESSAGES.name}{${cm.instrumentation}, ${L.SOURCE}=~"$destination"}[$__rate_interval])) or vector(0)`,
          legend: 'dlq/s',
        }, 4),
      )
      .withPanel(
        stat('Consumer groups not OK', `Kafka groups whose Burrow-style status is WARN, STALL, STOP, ERR or REWIND, abandoned groups (status STOP for ${o.abandonedAfter}) left out.`, 'short', {
          expr: `count(${METRIC.KAFKA_CONSUMER_STATUS.name}{${cm.exporter}} != ${KAFKA_CONSUMER_STATUS.OK} unless on (${C}, ${L.GROUP}) ${abandonedGroups(o)}) or vector(0)`,
          legend: 'groups',
        }, 4),
      )
      .withPanel(
        stat('Abandoned consumer groups', `Kafka groups whose status stayed STOP (no members, messages waiting, offset not moving) for ${o.abandonedAfter}: usually a decommissioned consumer whose group was never deleted. Left out of the worst-lag panels; list them on the Kafka consumer groups dashboard (status STOP).`, 'short', {
          expr: `count(${abandonedGroups(o)}) or vector(0)`,
          legend: 'abandoned',
        }, 6),
      )
      .withRow(row('Throughput'))
      .withPanel(
        timeseries('Produced per second', 'Messages sent, by system and destination.', 'mps', [
          { expr: `sum by (${L.MESSAGING_SYSTEM}, ${L.MESSAGING_DESTINATION_NAME}) (${rate(sent)})`, legend: `{{${L.MESSAGING_SYSTEM}}} {{${L.MESSAGING_DESTINATION_NAME}}}` },
        ]),
      )
      .withPanel(
        timeseries('Consumed per second', 'Deliveries handed to handlers, by system and destination (redeliveries included).', 'mps', [
          { expr: `sum by (${L.MESSAGING_SYSTEM}, ${L.MESSAGING_DESTINATION_NAME}) (${rate(consumed)})`, legend: `{{${L.MESSAGING_SYSTEM}}} {{${L.MESSAGING_DESTINATION_NAME}}}` },
        ]),
      )
      .withRow(row('Latency'))
      .withPanel(timeseries('End-to-end latency', 'Produced-at to processing done; points are exemplars linking to the trace of that message.', 's', [quantile(0.5), quantile(0.95), quantile(0.99)]))
      .withPanel(
        heatmap('End-to-end latency distribution', 'Every processed message by end-to-end latency bucket; exemplars link to traces.', {
          expr: `sum by (le) (${rate(e2eBucket, processed)})`,
          legend: '{{le}}',
          exemplar: true,
        }),
      )
      .withPanel(
        timeseries('Processing time (p95)', 'Handler duration, 95th percentile by destination; exemplars link to traces.', 's', [
          {
            expr: `histogram_quantile(0.95, sum by (le, ${L.MESSAGING_DESTINATION_NAME}) (${rate(`${METRIC.PROCESS_DURATION.name}_bucket`)}))`,
            legend: `{{${L.MESSAGING_DESTINATION_NAME}}}`,
            exemplar: true,
          },
        ]),
      )
      .withPanel(
        timeseries('Send time (p95)', 'Producer send to broker acknowledgement, 95th percentile by destination.', 's', [
          {
            expr: `histogram_quantile(0.95, sum by (le, ${L.MESSAGING_DESTINATION_NAME}) (${rate(`${METRIC.OPERATION_DURATION.name}_bucket`)}))`,
            legend: `{{${L.MESSAGING_DESTINATION_NAME}}}`,
            exemplar: true,
          },
        ]),
      )
      .withRow(row('Errors and dead letters'))
      .withPanel(
        timeseries('Error ratio', 'Share of sends, and of processed messages, that failed (0 when nothing failed). Processing failures: handler errors, nacks, rejects, unsettled deliveries.', 'percentunit', [
          { expr: errorRatio(outcomes), legend: 'processing {{' + L.MESSAGING_DESTINATION_NAME + '}}' },
          { expr: errorRatio(sent), legend: 'send {{' + L.MESSAGING_DESTINATION_NAME + '}}' },
        ]),
      )
      .withPanel(
        timeseries('Dead-lettered per second', 'Messages consumers sent to a dead-letter destination, by source and reason.', 'mps', [
          { expr: `sum by (${L.SOURCE}, ${L.REASON}) (rate(${METRIC.DLQ_MESSAGES.name}{${cm.instrumentation}, ${L.SOURCE}=~"$destination"}[$__rate_interval]))`, legend: `{{${L.SOURCE}}} {{${L.REASON}}}` },
        ]),
      )
      .withRow(row('Consumers'))
      .withPanel(
        timeseries('Worst lag per group', `Age of the oldest unconsumed message per Kafka consumer group on the selected clusters and destinations (exporter), abandoned groups (status STOP for ${o.abandonedAfter}) left out.`, 's', [
          { expr: `max by (${C}, ${L.GROUP}) (${lagSeconds})`, legend: `{{${C}}} {{${L.GROUP}}}` },
        ]),
      )
      .withPanel(
        timeseries('Messages in flight', 'Handed to a handler and not yet finished or settled.', 'short', [
          { expr: `sum by (${L.MESSAGING_DESTINATION_NAME}) (${sel(METRIC.IN_FLIGHT.name)})`, legend: `{{${L.MESSAGING_DESTINATION_NAME}}}` },
        ]),
      ),
  );
}
