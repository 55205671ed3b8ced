import { LABEL as L, METRIC, MESSAGING_SYSTEM, QUEUE_MESSAGE_STATE, E2E_STAGE, KAFKA_CONSUMER_STATUS, leMatcher } from '@eda-harness/semconv';
import type { AlertsConfig, AlertThresholds, GroupOverride } from './alerts-config';

/**
 * The alert pack, defined once. {@link alertPack} turns a configuration into rule groups; the
 * Prometheus rule files and the Grafana provisioning files are both rendered from its output
 * (`alerts/render-*.ts`), so the two formats cannot drift apart.
 *
 * Conventions every rule follows (the promtool tests in alerts/tests hold them to it):
 * - counters are only ever read through rate()/increase(), so no alert fires forever on a total;
 * - every expression is a filter: it returns nothing on absent input and nothing for an idle,
 *   caught-up consumer (lag 0, no traffic); division by a zero rate yields no series, never +Inf;
 * - alerts aggregate away `partition`, `job` and `instance` so one incident is one alert;
 * - annotations use `$value` and `$labels` only; the Grafana renderer maps `$value` to `$values.A.Value`.
 * Runbook links are not written here: the renderers add them, for every rule, in one place.
 */

export type Severity = 'warning' | 'critical';

export interface AlertRule {
  readonly alert: string;
  readonly severity: Severity;
  readonly expr: string;
  /** Prometheus duration. */
  readonly for: string;
  readonly summary: string;
  readonly description: string;
  /**
   * The rule fires on missing input by design (absent()): its absent-input case is a firing one.
   * Only for the alert that says a whole scrape job vanished.
   */
  readonly firesOnAbsentInput?: true;
  /** Index of the alerts config's groupOverrides entry this variant is for (rules with several variants). */
  readonly variant?: number;
}

export interface RecordingRule {
  readonly record: string;
  readonly expr: string;
}

export interface RuleGroup {
  /** Also the rule file's base name: alerts/prometheus/<file>.yml, alerts/grafana/<file>.yml. */
  readonly file: string;
  readonly name: string;
  readonly recordingRules: readonly RecordingRule[];
  readonly alertRules: readonly AlertRule[];
}

/** Prometheus duration for a whole number of seconds, in the largest unit that divides it. */
export function duration(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

/** A number as PromQL reads it, without float noise (14.4 * 0.01 → 0.144). */
function num(x: number): string {
  return String(Number(x.toPrecision(12)));
}

/**
 * A PromQL double-quoted string literal. A value from the config (the exporter's job name) stays
 * one label value whatever it holds: `x"} or vector(1) #` must not end the selector and turn the
 * rule into one that always fires.
 */
export function promqlString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

// leMatcher (semconv) selects one classic-histogram bucket on Prometheus 2 and 3 alike.
export { leMatcher };

/** A group-name glob (`*`: any characters, the rest literal) as an RE2 regex, anchored by PromQL. */
export function globRegex(glob: string): string {
  return glob
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
}

function withoutGroups(o: GroupOverride): Partial<AlertThresholds> {
  const { groups: _groups, for: _for, ...thresholds } = o;
  return thresholds;
}

function pct(ratio: number): string {
  return `${num(ratio * 100)}%`;
}

/** RabbitMQ consumers have no group: name it only when the series carries one. */
const BY_GROUP = `{{ if $labels.${L.MESSAGING_CONSUMER_GROUP_NAME} }} by group {{ $labels.${L.MESSAGING_CONSUMER_GROUP_NAME} }}{{ end }}`;
const IN_GROUP = `{{ if $labels.${L.MESSAGING_CONSUMER_GROUP_NAME} }} in group {{ $labels.${L.MESSAGING_CONSUMER_GROUP_NAME} }}{{ end }}`;

const unique = (labels: readonly string[]): string[] => [...new Set(labels)];
/** Aggregation and matching on exactly these labels (joins with the instrumentation's series, which carry other target labels). */
const byOnly = (...labels: string[]): string => `by (${unique(labels).join(', ')})`;
const onOnly = (...labels: string[]): string => `on (${unique(labels).join(', ')})`;

export function alertPack(config: AlertsConfig): readonly RuleGroup[] {
  const t = config.thresholds;
  // Every aggregation and join keeps the configured target labels (cluster, namespace, env,
  // team…) after the labels that name the problem: two clusters' incidents stay two alerts.
  const by = (...labels: string[]): string => byOnly(...labels, ...config.keptLabels);
  const on = (...labels: string[]): string => onOnly(...labels, ...config.keptLabels);
  const forOf = (alert: string, severity: Severity, fallback: string): string =>
    config.for[`${alert}:${severity}`] ?? config.for[alert] ?? fallback;
  // A group variant's own `for` (its groupOverrides entry) comes before the top-level one.
  const rule = (r: AlertRule): AlertRule => {
    const own = r.variant === undefined ? undefined : config.groupOverrides[r.variant]?.for;
    return { ...r, for: own?.[`${r.alert}:${r.severity}`] ?? own?.[r.alert] ?? forOf(r.alert, r.severity, r.for) };
  };

  // ---------------------------------------------------------------- Kafka consumer groups
  const lagMessages = METRIC.KAFKA_CONSUMER_LAG_MESSAGES.name;
  const lagSeconds = METRIC.KAFKA_CONSUMER_LAG_SECONDS.name;
  const lastCommit = METRIC.KAFKA_CONSUMER_LAST_COMMIT.name;
  const committed = METRIC.KAFKA_CONSUMER_COMMITTED_OFFSET.name;
  const members = METRIC.KAFKA_CONSUMER_GROUP_MEMBERS.name;
  const consumed = METRIC.CONSUMED_MESSAGES.name;
  const GTP = [L.GROUP, L.TOPIC, L.PARTITION];

  /** Partitions with more lag than allowed whose committed offset has not moved for `after` seconds (`sel`: the groups of a variant). */
  const noProgress = (after: number, allowed: number, sel: string): string =>
    `(time() - max ${by(...GTP)} (${lastCommit}${sel}) > ${after}) and ${on(...GTP)} (max ${by(...GTP)} (${lagMessages}${sel}) > ${num(allowed)})`;
  /** Words for an allowed lag in descriptions (nothing at the default 0, so those texts stay as they were). */
  const beyond = (allowed: number): string => (allowed > 0 ? ` (more than the ${num(allowed)} allowed)` : '');
  // The instrumentation sees deliveries the exporter cannot: a consumer handed the same message
  // again and again (handler throws, kafkajs restarts) is alive but stalled, not stopped. The
  // instrumentation's labels are renamed to the exporter's so the two can be joined.
  const kafkaDeliveries =
    `label_replace(label_replace(` +
    `sum ${byOnly(L.MESSAGING_CONSUMER_GROUP_NAME, L.MESSAGING_DESTINATION_NAME)} (rate(${consumed}{${L.MESSAGING_SYSTEM}="${MESSAGING_SYSTEM.KAFKA}"}[5m])) > 0, ` +
    `"${L.GROUP}", "$1", "${L.MESSAGING_CONSUMER_GROUP_NAME}", "(.*)"), "${L.TOPIC}", "$1", "${L.MESSAGING_DESTINATION_NAME}", "(.*)")`;

  const lagHigh = (severity: Severity, threshold: number, sel: string, variant?: number): AlertRule =>
    rule({
      alert: 'KafkaConsumerLagSecondsHigh',
      severity,
      ...(variant === undefined ? {} : { variant }),
      expr: `max ${by(L.GROUP, L.TOPIC)} (${lagSeconds}${sel}) > ${threshold}`,
      for: '5m',
      summary: 'Consumer group {{ $labels.group }} is {{ $value | humanizeDuration }} behind on topic {{ $labels.topic }}.',
      description: `The oldest message group {{ $labels.group }} has not yet consumed from topic {{ $labels.topic }} is {{ $value | humanizeDuration }} old (${severity} above ${duration(threshold)}).`,
    });

  /**
   * The group-specific rules, once per groupOverrides entry (its groups, minus those of earlier
   * entries: the first match applies) and once for every other group, each with its thresholds.
   * Without overrides: one variant, no selector, so the default files do not change.
   */
  const groupVariants = (): { variant: number | undefined; sel: string; th: AlertThresholds }[] => {
    const overrides = config.groupOverrides;
    const res = overrides.map((o) => globRegex(o.groups));
    const notEarlier = (i: number): string => (i > 0 ? `, ${L.GROUP}!~${promqlString(res.slice(0, i).join('|'))}` : '');
    return [
      ...overrides.map((o, i) => ({ variant: i as number | undefined, sel: `{${L.GROUP}=~${promqlString(res[i] ?? '')}${notEarlier(i)}}`, th: { ...t, ...withoutGroups(o) } })),
      { variant: undefined, sel: overrides.length > 0 ? `{${L.GROUP}!~${promqlString(res.join('|'))}}` : '', th: t },
    ];
  };
  const variants = groupVariants();
  const perVariant = (make: (sel: string, th: AlertThresholds, v: { variant?: number }) => AlertRule[]): AlertRule[] =>
    variants.flatMap(({ variant, sel, th }) => make(sel, th, variant === undefined ? {} : { variant }));

  const lagAndProgress = perVariant((sel, th, v) => [
    lagHigh('warning', th.kafkaLagSecondsWarning, sel, v.variant),
    lagHigh('critical', th.kafkaLagSecondsCritical, sel, v.variant),
    rule({
      alert: 'KafkaConsumerStopped',
      severity: 'critical',
      ...v,
      expr: `count ${by(L.GROUP, L.TOPIC)} (${noProgress(th.kafkaStoppedAfterSeconds, th.kafkaAllowedLagMessages, sel)}) unless ${onOnly(L.GROUP, L.TOPIC)} ${kafkaDeliveries}`,
      for: '5m',
      summary: 'Consumer group {{ $labels.group }} stopped consuming topic {{ $labels.topic }}.',
      description: `{{ $value }} partition(s) of topic {{ $labels.topic }} have messages waiting${beyond(th.kafkaAllowedLagMessages)}, and group {{ $labels.group }} has neither moved its committed offset for ${duration(th.kafkaStoppedAfterSeconds)} nor received a message.`,
    }),
    rule({
      alert: 'KafkaConsumerStalled',
      severity: 'critical',
      ...v,
      expr: `count ${by(L.GROUP, L.TOPIC)} (${noProgress(th.kafkaStalledAfterSeconds, th.kafkaAllowedLagMessages, sel)}) and ${onOnly(L.GROUP, L.TOPIC)} ${kafkaDeliveries}`,
      for: '5m',
      summary: 'Consumer group {{ $labels.group }} receives messages from topic {{ $labels.topic }} but makes no progress.',
      description: `Group {{ $labels.group }} is still being handed messages, yet the committed offset of {{ $value }} partition(s) with lag${beyond(th.kafkaAllowedLagMessages)} has not moved for ${duration(th.kafkaStalledAfterSeconds)}: a message that keeps failing, or a handler that never returns.`,
    }),
  ]);

  // Lag in messages grows with traffic even for a consumer that keeps up (a ramp doubles the
  // messages in flight at a constant delay), so it alone is no sign of falling behind. Here the
  // delay itself (lag in seconds) must keep growing, and the exporter's status must be WARN
  // (its least-squares trend over the lag in messages, R² ≥ 0.8): both, so neither a noisy
  // delay nor a traffic ramp pages.
  const fallingBehind = perVariant((sel, th, v) => {
    const w = duration(th.kafkaFallingBehindWindowSeconds);
    const floor = th.kafkaFallingBehindMinLagSeconds > 0 ? ` (above ${duration(th.kafkaFallingBehindMinLagSeconds)} throughout)` : '';
    return [
      rule({
        alert: 'KafkaConsumerFallingBehind',
        severity: 'warning',
        ...v,
        expr:
          `count ${by(L.GROUP, L.TOPIC)} ((min_over_time(${lagSeconds}${sel}[${w}]) > ${num(th.kafkaFallingBehindMinLagSeconds)}) ` +
          `and (deriv(${lagSeconds}${sel}[${w}]) > 0)) ` +
          `and ${on(L.GROUP)} (max ${by(L.GROUP)} (${METRIC.KAFKA_CONSUMER_STATUS.name}${sel}) == ${KAFKA_CONSUMER_STATUS.WARN})`,
        for: '10m',
        summary: 'Consumer group {{ $labels.group }} is falling behind on topic {{ $labels.topic }}.',
        description: `On {{ $value }} partition(s) of topic {{ $labels.topic }}, the delay of group {{ $labels.group }} (lag in seconds) has not reached zero${floor} and kept growing over ${w}, and the exporter rates its lag trend WARN: messages arrive faster than they are consumed.`,
      }),
    ];
  });

  // Manual-assignment groups (assign() + commit: Flink, Spark, Connect sinks) have no members
  // by design; KafkaConsumerStopped judges them by offset movement instead.
  const emptyWithLag = perVariant((sel, th, v) => [
    rule({
      alert: 'KafkaConsumerGroupEmptyWithLag',
      severity: 'critical',
      ...v,
      expr:
        `sum ${by(L.GROUP)} (${lagMessages}${sel}) > ${num(th.kafkaAllowedLagMessages)} and ${on(L.GROUP)} (max ${by(L.GROUP)} (${members}${sel}) == 0) ` +
        `unless ${on(L.GROUP)} (max ${by(L.GROUP)} (${METRIC.KAFKA_CONSUMER_GROUP_ASSIGNMENT.name}{${L.ASSIGNMENT}="manual"}) == 1)`,
      for: '5m',
      summary: 'Consumer group {{ $labels.group }} has no members while {{ $value }} messages wait.',
      description: `Group {{ $labels.group }} has no live consumer, and {{ $value }} messages wait on its partitions${beyond(th.kafkaAllowedLagMessages)}: nothing will consume them until a consumer joins.`,
    }),
  ]);

  const kafka: RuleGroup = {
    file: 'kafka-consumers',
    name: 'eda-harness.kafka-consumers',
    recordingRules: [],
    alertRules: [
      ...lagAndProgress,
      ...fallingBehind,
      rule({
        alert: 'KafkaTimeToDrainHigh',
        severity: 'warning',
        expr:
          `sum ${by(L.GROUP, L.TOPIC)} (${lagMessages}) / ` +
          `(sum ${by(L.GROUP, L.TOPIC)} (deriv(${committed}[5m])) > 0) > ${t.kafkaTimeToDrainSeconds}`,
        for: '10m',
        summary: 'Group {{ $labels.group }} needs {{ $value | humanizeDuration }} to drain topic {{ $labels.topic }}.',
        description: `At its current consumption rate, group {{ $labels.group }} needs {{ $value | humanizeDuration }} to consume the messages waiting on topic {{ $labels.topic }} (threshold ${duration(t.kafkaTimeToDrainSeconds)}).`,
      }),
      rule({
        alert: 'KafkaConsumerStatusError',
        severity: 'warning',
        expr: `max ${by(L.GROUP)} (${METRIC.KAFKA_CONSUMER_STATUS.name}) == ${KAFKA_CONSUMER_STATUS.ERR}`,
        for: '10m',
        summary: 'The exporter cannot read consumer group {{ $labels.group }}.',
        description:
          'The offsets or the description of group {{ $labels.group }} could not be read by the exporter (status ERR): its lag series keep their last values, so the lag alerts for this group are blind. ' +
          `${METRIC.EXPORTER_PARTIAL_FAILURES.name} says which request fails; ACLs on the group are the usual cause.`,
      }),
      ...emptyWithLag,
    ],
  };

  // ---------------------------------------------------------------- dead letters
  const inflow = METRIC.DLQ_INFLOW.name;
  const dlqMessages = METRIC.DLQ_MESSAGES.name;
  const dlqWindow = duration(t.dlqArrivingWindowSeconds);
  // The instrumentation names the consumed topic or queue messaging_destination_name; the DLQ counter names it source.
  const consumedBySource = `label_replace(rate(${consumed}[5m]), "${L.SOURCE}", "$1", "${L.MESSAGING_DESTINATION_NAME}", "(.*)")`;
  // vhost: RabbitMQ only (absent, so empty, on Kafka series); two vhosts' DLQs of one name stay apart.
  const SDS = [L.SYSTEM, L.VHOST, L.DLQ, L.SOURCE];
  const deadLetters: RuleGroup = {
    file: 'dead-letters',
    name: 'eda-harness.dead-letters',
    recordingRules: [],
    alertRules: [
      rule({
        alert: 'DeadLetterMessagesArriving',
        severity: 'warning',
        // The second branch catches the first message of a counter that is created on its
        // first increment: increase() needs two samples and would never see that one.
        expr:
          `sum ${by(...SDS)} (increase(${inflow}[${dlqWindow}])) > ${t.dlqArrivingMessages} ` +
          `or sum ${by(...SDS)} (${inflow} unless ${inflow} offset ${dlqWindow}) > ${t.dlqArrivingMessages}`,
        for: '1m',
        summary: '{{ $value | humanize }} message(s) from {{ $labels.source }} reached dead-letter destination {{ $labels.dlq }}.',
        description: `{{ $value | humanize }} message(s) from {{ $labels.source }} entered {{ $labels.system }} dead-letter destination {{ $labels.dlq }} in the last ${dlqWindow}. They will not be processed until someone looks at them.`,
      }),
      rule({
        alert: 'DeadLetterRatioHigh',
        severity: 'warning',
        // Per consumer group: one group dead-lettering 3 % of what it reads among four groups of
        // one topic is 3 %, not 0.75 %. Dead letters counted without a group (recordDeadLetter
        // outside a consumer's handler, an older instrumentation) are judged against all the
        // source's consumption instead, so they are not lost for want of a matching group.
        expr:
          `sum ${by(L.MESSAGING_SYSTEM, L.SOURCE, L.MESSAGING_CONSUMER_GROUP_NAME)} (rate(${dlqMessages}[5m])) / ${on(L.MESSAGING_SYSTEM, L.SOURCE, L.MESSAGING_CONSUMER_GROUP_NAME)} ` +
          `sum ${by(L.MESSAGING_SYSTEM, L.SOURCE, L.MESSAGING_CONSUMER_GROUP_NAME)} (${consumedBySource}) > ${num(t.dlqRatio)} ` +
          `or sum ${by(L.MESSAGING_SYSTEM, L.SOURCE)} (rate(${dlqMessages}{${L.MESSAGING_CONSUMER_GROUP_NAME}=""}[5m])) / ${on(L.MESSAGING_SYSTEM, L.SOURCE)} ` +
          `sum ${by(L.MESSAGING_SYSTEM, L.SOURCE)} (${consumedBySource}) > ${num(t.dlqRatio)}`,
        for: '10m',
        summary: `{{ $value | humanizePercentage }} of messages consumed from {{ $labels.source }}${BY_GROUP} go to a dead-letter destination.`,
        description: `Consumers of {{ $labels.source }} ({{ $labels.messaging_system }})${IN_GROUP} dead-letter {{ $value | humanizePercentage }} of the messages they receive (threshold ${pct(t.dlqRatio)}).`,
      }),
    ],
  };

  // ---------------------------------------------------------------- RabbitMQ queues
  const queueMessages = METRIC.RABBITMQ_QUEUE_MESSAGES.name;
  const queueConsumers = METRIC.RABBITMQ_QUEUE_CONSUMERS.name;
  const ready = `${queueMessages}{${L.STATE}="${QUEUE_MESSAGE_STATE.READY}"}`;
  // Dead-letter queues have no consumer and grow by design; the DLQ alerts cover them. The
  // exporter finds them by DLX arguments, so no queue name is hard-coded here.
  // Queues are told apart by vhost and name: one name may live in several vhosts.
  const VQ = [L.VHOST, L.QUEUE];
  const notDlq = `unless ${on(...VQ)} label_replace(max ${by(L.VHOST, L.DLQ)} (${METRIC.DLQ_DEPTH.name}{${L.SYSTEM}="${MESSAGING_SYSTEM.RABBITMQ}"}), "${L.QUEUE}", "$1", "${L.DLQ}", "(.*)")`;
  // The waiting queue of a retry loop (TTL, dead-letters back to the work queue) has no consumer by design.
  const notRetryHold = `unless ${on(...VQ)} ${METRIC.RABBITMQ_RETRY_QUEUE.name}`;
  const growWindow = duration(t.rabbitmqQueueGrowingWindowSeconds);
  const rabbit: RuleGroup = {
    file: 'rabbitmq-queues',
    name: 'eda-harness.rabbitmq-queues',
    recordingRules: [],
    alertRules: [
      rule({
        alert: 'RabbitMqQueueWithoutConsumers',
        severity: 'critical',
        expr: `sum ${by(...VQ)} (${ready}) > 0 and ${on(...VQ)} (max ${by(...VQ)} (${queueConsumers}) == 0) ${notDlq} ${notRetryHold}`,
        for: '5m',
        summary: 'Queue {{ $labels.queue }} (vhost {{ $labels.vhost }}) has no consumer while {{ $value }} messages wait.',
        description: 'Queue {{ $labels.queue }} in vhost {{ $labels.vhost }} holds {{ $value }} ready messages and no consumer is attached: nothing will process them.',
      }),
      rule({
        alert: 'RabbitMqQueueGrowing',
        severity: 'warning',
        expr:
          `max ${by(...VQ)} (${ready} and (min_over_time(${ready}[${growWindow}]) > 0) and (deriv(${ready}[${growWindow}]) > 0)) ${notDlq}`,
        for: '10m',
        summary: 'Queue {{ $labels.queue }} (vhost {{ $labels.vhost }}) keeps growing ({{ $value }} ready messages).',
        description: `The ready messages of queue {{ $labels.queue }} in vhost {{ $labels.vhost }} have not reached zero and kept growing over ${growWindow}; {{ $value }} wait now. Consumers are slower than producers.`,
      }),
    ],
  };

  // ---------------------------------------------------------------- messaging (instrumentation)
  const e2eBucket = `${METRIC.E2E_LATENCY.name}_bucket`;
  const e2eCount = `${METRIC.E2E_LATENCY.name}_count`;
  const SDG = [L.MESSAGING_SYSTEM, L.MESSAGING_DESTINATION_NAME, L.MESSAGING_CONSUMER_GROUP_NAME];
  const budget = 1 - t.e2eLatencySloTarget;
  const sloWindows = ['5m', '30m', '1h', '6h', '3d'] as const;
  const sloRecord = (w: (typeof sloWindows)[number]): string => `eda:message_e2e_latency_slo_errors:ratio_rate${w}`;
  const sloLe = leMatcher(t.e2eLatencySloSeconds);
  // Share of messages slower than the objective, per window (the SRE workbook's error ratio).
  const sloRecording: RecordingRule[] = sloWindows.map((w) => ({
    record: sloRecord(w),
    expr:
      `1 - sum ${by(...SDG)} (rate(${e2eBucket}{${L.STAGE}="${E2E_STAGE.PROCESSED}", ${sloLe}}[${w}])) / ` +
      `sum ${by(...SDG)} (rate(${e2eCount}{${L.STAGE}="${E2E_STAGE.PROCESSED}"}[${w}]))`,
  }));
  type Window = (typeof sloWindows)[number];
  // One tier: both windows burn faster than `rate`, and the long window saw enough traffic.
  const tier = (rate: number, long: Window, short: Window): string =>
    `(${sloRecord(long)} > ${num(rate * budget)} and ${sloRecord(short)} > ${num(rate * budget)} ` +
    `and sum ${by(...SDG)} (rate(${e2eCount}{${L.STAGE}="${E2E_STAGE.PROCESSED}"}[${long}])) >= ${num(t.e2eSloMinMessagesPerSecond)})`;
  const objective = `objective: ${pct(t.e2eLatencySloTarget)} within ${duration(t.e2eLatencySloSeconds)}`;
  const slowShare = `{{ $value | humanizePercentage }} of the messages processed from {{ $labels.messaging_destination_name }}${BY_GROUP}`;
  // The SRE workbook's three tiers: 2% of a 30-day budget in 1h or 5% in 6h page, 10% in 3 days
  // is a ticket. No `for:`: the short window already keeps a blip from firing, and a `for:` only
  // delays the page.
  const burnPage: AlertRule = rule({
    alert: 'MessageLatencySloBurn',
    severity: 'critical',
    expr: `${tier(t.e2eFastBurnRate, '1h', '5m')} or ${tier(t.e2eSlowBurnRate, '6h', '30m')}`,
    for: '0s',
    summary: `Messages to {{ $labels.messaging_destination_name }} miss the ${duration(t.e2eLatencySloSeconds)} end-to-end objective fast enough to exhaust the error budget within days.`,
    description:
      `${slowShare} took longer than ${duration(t.e2eLatencySloSeconds)} from produce to processed over the burning window ` +
      `(${objective}; pages at burn rate ${num(t.e2eFastBurnRate)} over 1h and 5m, or ${num(t.e2eSlowBurnRate)} over 6h and 30m).`,
  });
  const burnTicket: AlertRule = rule({
    alert: 'MessageLatencySloBurn',
    severity: 'warning',
    expr: tier(t.e2eTicketBurnRate, '3d', '6h'),
    for: '0s',
    summary: `Messages to {{ $labels.messaging_destination_name }} miss the ${duration(t.e2eLatencySloSeconds)} end-to-end objective faster than the budget allows.`,
    description:
      `${slowShare} over the last 3d took longer than ${duration(t.e2eLatencySloSeconds)} from produce to processed ` +
      `(${objective}; ticket at burn rate ${num(t.e2eTicketBurnRate)} over 3d and 6h).`,
  });
  const sent = METRIC.SENT_MESSAGES.name;
  // Outcomes are counted when processing ends (one per message), not at delivery: the failure
  // ratio is failed ÷ all processed, the same definition for Kafka and AMQP.
  const processed = METRIC.MESSAGES_PROCESSED.name;
  const negative = METRIC.E2E_NEGATIVE_LATENCY.name;
  const SD = [L.MESSAGING_SYSTEM, L.MESSAGING_DESTINATION_NAME];
  const received = `${e2eCount}{${L.STAGE}="${E2E_STAGE.RECEIVED}"}`;
  const messaging: RuleGroup = {
    file: 'messaging',
    name: 'eda-harness.messaging',
    recordingRules: sloRecording,
    alertRules: [
      burnPage,
      burnTicket,
      rule({
        alert: 'ProducerErrorRatioHigh',
        severity: 'warning',
        expr: `sum ${by(...SD)} (rate(${sent}{${L.ERROR_TYPE}!=""}[5m])) / sum ${by(...SD)} (rate(${sent}[5m])) > ${num(t.producerErrorRatio)}`,
        for: '5m',
        summary: '{{ $value | humanizePercentage }} of sends to {{ $labels.messaging_destination_name }} fail.',
        description: `Producers fail to send {{ $value | humanizePercentage }} of their messages to {{ $labels.messaging_system }} destination {{ $labels.messaging_destination_name }} (threshold ${pct(t.producerErrorRatio)}).`,
      }),
      rule({
        alert: 'ProcessingErrorRatioHigh',
        severity: 'warning',
        expr: `sum ${by(...SDG)} (rate(${processed}{${L.ERROR_TYPE}!=""}[5m])) / sum ${by(...SDG)} (rate(${processed}[5m])) > ${num(t.processingErrorRatio)}`,
        for: '5m',
        summary: '{{ $value | humanizePercentage }} of messages from {{ $labels.messaging_destination_name }} fail in their handler.',
        description: `Consumers fail to process {{ $value | humanizePercentage }} of the messages from {{ $labels.messaging_destination_name }}${BY_GROUP} (threshold ${pct(t.processingErrorRatio)}).`,
      }),
      rule({
        alert: 'ClockSkewSuspected',
        severity: 'warning',
        // The denominator falls back to 0 when every message was negative (no histogram series).
        expr:
          `sum ${by(...SDG)} (rate(${negative}[10m])) / (sum ${by(...SDG)} (rate(${negative}[10m])) + ` +
          `(sum ${by(...SDG)} (rate(${received}[10m])) or 0 * sum ${by(...SDG)} (rate(${negative}[10m])))) > ${num(t.clockSkewRatio)}`,
        for: '10m',
        summary: 'Producer and consumer clocks disagree for {{ $labels.messaging_destination_name }}.',
        description: `{{ $value | humanizePercentage }} of the messages received from {{ $labels.messaging_destination_name }}${BY_GROUP} carry a produced-at time in the consumer's future, so end-to-end latency there is unreliable. Check NTP on producer and consumer hosts.`,
      }),
    ],
  };

  // ---------------------------------------------------------------- the exporter itself
  const TK = [L.TARGET];
  const exporterUp = `max ${by(...TK)} (${METRIC.EXPORTER_UP.name})`;
  const lastSuccess = `max ${by(...TK)} (${METRIC.EXPORTER_LAST_SUCCESS.name})`;
  const exporter: RuleGroup = {
    file: 'exporter',
    name: 'eda-harness.exporter',
    recordingRules: [],
    alertRules: [
      rule({
        alert: 'EdaExporterDown',
        severity: 'critical',
        expr: `up{job=${promqlString(config.exporterJob)}} == 0`,
        for: '2m',
        summary: 'Prometheus cannot scrape the eda-harness exporter at {{ $labels.instance }}.',
        description: 'The lag, DLQ and queue metrics come from this exporter; while it is down, every alert that depends on them is blind.',
      }),
      rule({
        alert: 'EdaExporterAbsent',
        severity: 'critical',
        // absent() keeps the label of the equality matcher: the alert names the job.
        expr: `absent(up{job=${promqlString(config.exporterJob)}})`,
        for: '5m',
        summary: 'Prometheus has no target for the eda-harness exporter (job {{ $labels.job }}).',
        description:
          'No up series exists for job {{ $labels.job }}: the exporter left service discovery (Deployment or Service deleted, ServiceMonitor selector, scrape config), so Prometheus does not try to scrape it and EdaExporterDown cannot fire. Every alert that reads its metrics is blind.',
        firesOnAbsentInput: true,
      }),
      rule({
        alert: 'EdaExporterNeverCollected',
        severity: 'critical',
        expr: `${exporterUp} == 0 unless ${on(...TK)} ${lastSuccess}`,
        for: '5m',
        summary: 'The exporter has not once collected from {{ $labels.target }} since it started.',
        description:
          'Every collection from {{ $labels.target }} has failed, so none of its lag, queue or DLQ series exist and the alerts that read them cannot fire. ' +
          'On a first deployment this is nearly always wrong credentials, missing ACLs or permissions, or an unreachable address: the exporter logs the error of each failed collection.',
      }),
      rule({
        alert: 'EdaExporterCollectionFailing',
        severity: 'critical',
        expr: `time() - ${lastSuccess} and ${on(...TK)} (${exporterUp} == 0)`,
        for: '5m',
        summary: 'Collections from {{ $labels.target }} fail; the last success was {{ $value | humanizeDuration }} ago.',
        description:
          'The exporter answers scrapes but its collections from {{ $labels.target }} fail (broker unreachable, credentials or ACLs changed); the values it serves are {{ $value | humanizeDuration }} old and the alerts that read them are blind. The exporter logs the error of each failed collection.',
      }),
      rule({
        alert: 'EdaExporterDegraded',
        severity: 'warning',
        expr: `max ${by(...TK)} (${METRIC.EXPORTER_DEGRADED.name}) == 1`,
        for: '10m',
        summary: 'The exporter reads {{ $labels.target }} through a fallback that sees less.',
        description:
          'The exporter reads {{ $labels.target }} through its fallback path (RabbitMQ: AMQP passive declares of the queues it already knows, when the management API fails): new queues, message rates and dead-letter topology are missing, and alerts on them may stay silent. ' +
          `${METRIC.EXPORTER_RABBITMQ_VIA.name} shows the path in use; check the management plugin and the exporter's credentials for it.`,
      }),
      rule({
        alert: 'EdaExporterStale',
        severity: 'warning',
        expr: `time() - max ${by(L.TARGET)} (${METRIC.EXPORTER_LAST_SUCCESS.name}) > ${t.exporterStaleSeconds}`,
        for: '2m',
        summary: 'The exporter has not collected from {{ $labels.target }} for {{ $value | humanizeDuration }}.',
        description: `The exporter still answers scrapes, but its last successful collection from {{ $labels.target }} was {{ $value | humanizeDuration }} ago (threshold ${duration(t.exporterStaleSeconds)}): the values it serves are old.`,
      }),
    ],
  };

  return [kafka, deadLetters, rabbit, messaging, exporter];
}

/** Anchor of an alert's section in alerts/runbook.md (GitHub's heading slug). */
export function runbookAnchor(alert: string): string {
  return alert.toLowerCase();
}

export function runbookUrl(config: AlertsConfig, alert: string): string {
  return `${config.runbookUrl}#${runbookAnchor(alert)}`;
}
