import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { AsyncLocalStorage } from 'node:async_hooks';
import { ROOT_CONTEXT, context, trace, type Context, type ContextManager } from '@opentelemetry/api';
import { BasicTracerProvider, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';
import { ConfigError, errorMessage, withDeadline, type ProgressSink } from '@eda-harness/core';
import { extractContext } from '@eda-harness/instrumentation';
import { kafkaClientOptions, kafkaConnectionOf } from '../kafka-connection';
import { createTopicsWithLeaders } from '../kafka-topics';
import type { HistoryRecord } from '../history/format';
import type { ChaosFault, ChaosWorkload, ClientEvent, ConsumedMessage, InvariantCheck, RunningWorkload, SentMessage, WorkloadContext } from '../types';
import { waitUpTo } from '../wait-up-to';
import type { InputMessage, ResolvedServiceConfig, ServiceCommand, ServiceDeadLetters, ServiceFactory, ServiceInput, StartedService } from './config';
import { rabbitDeadLetterReader, rabbitInputPublisher, type RabbitInputPublisher } from './rabbitmq-io';
import { serviceInvariants } from './invariants';
import { outputCatchUp, partitionKey, type PartitionEnds } from './output-catch-up';
import { startServiceOtlpReceiver, type ReceivedServiceSpan, type ServiceOtlpReceiver } from './otlp-receiver';
import { serviceProcess, type ServiceProcess } from './service-process';

/**
 * A team's service under test, driven and observed by the harness: `serviceUnderTest(config)`
 * gives the workload (start the service, send its inputs with trace context, read its outputs and
 * spans, count its effects at the end), the service-side faults (SIGKILL and restart, SIGSTOP),
 * and the invariants to check. Everything observed goes to the scenario's history.
 */

export interface ServiceUnderTestOptions {
  /** Where the child's stdout / stderr go (default a folder under the OS temp dir). */
  readonly logDir?: string;
  readonly progress?: ProgressSink;
}

export interface ServiceUnderTest {
  readonly config: ResolvedServiceConfig;
  readonly workload: ChaosWorkload;
  /** SIGKILL to the service's process at injection, started again at healing (needs a command start). */
  kill(): ChaosFault;
  /** SIGSTOP to the service's process, SIGCONT at healing (needs a command start). */
  pause(): ChaosFault;
  /** With `poison`, also: every poison input dead-lettered and never applied, every good one processed. */
  invariants(recoveryLimitMs: number, poison?: boolean): InvariantCheck[];
}

const HEADER = { ID: 'chaos-id', KEY: 'chaos-key', SEQ: 'chaos-seq' } as const;
const SETTLE_TIMEOUT_MS = 15_000;
/** How long the drain waits, after the last input is processed, for the output reader to reach the output topics' ends. */
const OUTPUT_CATCH_UP_MS = 10_000;

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');
/** "topic orders", "queue emails", "exchange notifications (routing key email)". */
const inputName = (i: ServiceInput): string => (i.queue !== undefined ? `queue ${i.queue}` : i.exchange !== undefined ? `exchange ${i.exchange} (routing key ${i.routingKey ?? ''})` : `topic ${i.topic ?? ''}`);
const deadLetterName = (d: ServiceDeadLetters): string => ('queue' in d ? `queue ${d.queue}` : `topic ${d.topic}`);
/** A poison input's body when the config gives no poison template: not JSON, so any parser rejects it. */
const POISON_VALUE = 'chaos: poison input, not JSON {';
const headerText = (v: unknown): string | undefined => (typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('utf8') : typeof v === 'number' ? String(v) : undefined);
/** A URL with its password replaced, for the history and the report. */
const redactUrl = (url: string): string => url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');

function fieldOf(body: Buffer | null, path: string): string | undefined {
  if (!body) return undefined;
  try {
    let v: unknown = JSON.parse(body.toString('utf8'));
    for (const part of path.split('.')) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[part] : undefined;
    return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
  } catch {
    return undefined;
  }
}

/** The active context carried across async calls (what an SDK registers), on Node's AsyncLocalStorage. */
function asyncContextManager(): ContextManager {
  const storage = new AsyncLocalStorage<Context>();
  const manager: ContextManager = {
    active: () => storage.getStore() ?? ROOT_CONTEXT,
    with: (ctx, fn, thisArg, ...args) => storage.run(ctx, () => fn.call(thisArg, ...args)),
    bind: <T>(ctx: Context, target: T): T => {
      if (typeof target !== 'function') return target;
      const fn = target as unknown as (...a: unknown[]) => unknown;
      return function (this: unknown, ...a: unknown[]) {
        return storage.run(ctx, () => fn.apply(this, a));
      } as unknown as T;
    },
    enable: () => manager,
    disable: () => {
      storage.disable();
      return manager;
    },
  };
  return manager;
}

/** A span processor handing every ended span of an in-process service to the harness. */
function forwardingProcessor(onSpan: (s: ReceivedServiceSpan) => void): SpanProcessor {
  return {
    onStart: () => undefined,
    onEnd(span: ReadableSpan) {
      const sc = span.spanContext();
      const kind = span.kind === 3 ? 'producer' : span.kind === 4 ? 'consumer' : 'other';
      const [s, ns] = span.endTime;
      onSpan({ serviceName: undefined, name: span.name, kind, traceId: sc.traceId, spanId: sc.spanId, parentSpanId: span.parentSpanContext?.spanId, endMs: Math.round(s * 1000 + ns / 1e6) });
    },
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
}

export function serviceUnderTest(config: ResolvedServiceConfig, options: ServiceUnderTestOptions = {}): ServiceUnderTest {
  let proc: ServiceProcess | undefined;
  const commandStart = typeof config.start === 'function' ? undefined : config.start;
  const needProcess = (fault: string): ServiceProcess => {
    if (!commandStart) throw new ConfigError(`fault ${fault} needs the service started as a process: ${config.name}'s config starts it in-process`, { hint: "write start: { command, args } in the service config so the harness can signal it" });
    if (!proc) throw new ConfigError(`fault ${fault}: the service ${config.name} is not running`);
    return proc;
  };
  const input = config.inputs[0]!;
  const members = (commandStart?.instances ?? 1) > 1 ? ` instance 0 (of ${commandStart?.instances})` : '';
  const system = config.system;
  const needs = system === 'kafka' ? ({ kafkaNodes: 1 } as const) : ({ rabbitmq: true } as const);
  const processFault = (name: string, description: string, inject: (p: ServiceProcess) => Promise<void>, heal: (p: ServiceProcess) => Promise<void>): ChaosFault => ({
    name,
    description,
    system,
    needs,
    async inject(ctx) {
      ctx.progress(`fault ${name}: ${description}`);
      await inject(needProcess(name));
    },
    async heal(ctx) {
      ctx.progress(`fault ${name}: healing`);
      await heal(needProcess(name));
    },
  });
  return {
    config,
    workload: {
      system,
      needs,
      description: `${config.name} ${config.version}: ${input.messagesPerSecond ?? 10} inputs/s over ${input.keys ?? 4} keys to ${inputName(input)}${config.outputs.length > 0 ? `, outputs read from ${config.outputs.map((o) => o.topic).join(', ')}` : ''}${config.deadLetters ? `, dead letters read from ${deadLetterName(config.deadLetters)}` : ''}`,
      start: async (ctx) => {
        const r = await startServiceWorkload(config, ctx, options, commandStart);
        proc = r.proc;
        return r.running;
      },
    },
    kill: () =>
      processFault(
        'service-kill',
        `${config.name}${members} killed with SIGKILL, then started again`,
        (p) => p.kill(),
        (p) => p.start(),
      ),
    pause: () =>
      processFault(
        'service-pause',
        `${config.name}${members} frozen with SIGSTOP, then resumed`,
        async (p) => p.pause(),
        async (p) => p.resume(),
      ),
    invariants: (recoveryLimitMs, poison = false) => serviceInvariants({ poison, deadLetters: config.deadLetters !== undefined, recoveryLimitMs, effects: config.effects !== undefined, effectName: config.effectName, orderedPerKey: config.orderedPerKey }),
  };
}

async function startServiceWorkload(config: ResolvedServiceConfig, ctx: WorkloadContext, options: ServiceUnderTestOptions, command: ServiceCommand | undefined): Promise<{ running: RunningWorkload; proc: ServiceProcess | undefined }> {
  const history = ctx.history ?? (() => undefined);
  const input = config.inputs[0]!;
  // The topics are the team's (the service is configured with them), made unique per run by
  // the harness only when the config says nothing: a prefixed copy would not be what it reads.
  const onKafka = config.system === 'kafka';
  const destination = onKafka ? input.topic! : (input.queue ?? input.exchange!);
  const sent: SentMessage[] = [];
  const consumed: ConsumedMessage[] = [];
  const events: ClientEvent[] = [];
  const event = (where: ClientEvent['where'], message: string): void => {
    const atMs = Date.now();
    events.push({ atMs, where, message });
    history({ type: 'event', t: atMs, where, message });
    if (where === 'service') ctx.progress(message);
  };
  const inputByContext = new Map<string, SentMessage & { traceId: string; spanId: string }>();
  const inputByTrace = new Map<string, string>();
  const sentById = new Map<string, { key: string; seq: number; traceId: string }>();
  let spansReceived = 0;
  const processed = new Set<string>();
  // With a trace backend reading spans back (Jaeger), a process's exports are relayed there and the
  // history gets what the backend answers after the run; the receiver still sees them live (the
  // drain and the processed count need them). An in-process service's spans are not OTLP: kept here.
  const relayTo = command ? ctx.traceRelay?.otlpHttpUrl : undefined;
  if (ctx.traceRelay && !command) ctx.progress(`traces: ${config.name} runs in-process (no OTLP export): its spans are the harness's recording, not read back from the trace backend`);
  const onSpan = (s: ReceivedServiceSpan): void => {
    spansReceived++;
    const rec: HistoryRecord = { type: 'span', t: s.endMs, name: s.name, kind: s.kind, traceId: s.traceId, spanId: s.spanId, ...(s.parentSpanId === undefined ? {} : { parentSpanId: s.parentSpanId }) };
    if (relayTo === undefined) history(rec);
    if (s.kind !== 'consumer' || !s.parentSpanId) return;
    const m = inputByContext.get(`${s.traceId}/${s.parentSpanId}`);
    if (m && !processed.has(m.id)) {
      processed.add(m.id);
      consumed.push({ id: m.id, key: m.key, seq: m.seq, atMs: s.endMs, partition: undefined, redelivered: false, producerTraceId: s.traceId, producerSpanId: s.parentSpanId, deadLettered: false });
    }
  };

  // Kafka clients only for a Kafka service (a RabbitMQ run may have no Kafka at all).
  const deadLetteredIds = new Set<string>();
  /** A message seen on the service's dead-letter topic or queue, by its chaos-id header. */
  const deadLettered = (id: string | undefined, where: string, partition: number | undefined): void => {
    const m = id === undefined ? undefined : sentById.get(id);
    if (id === undefined || !m) return void event('consume', `dead letter ${where} matches no input of this run (chaos-id ${id ?? 'missing'})`);
    const atMs = Date.now();
    deadLetteredIds.add(id);
    consumed.push({ id, key: m.key, seq: m.seq, atMs, partition, redelivered: false, producerTraceId: undefined, producerSpanId: undefined, deadLettered: true });
    history({ type: 'delivery', t: atMs, id, key: m.key, seq: m.seq, consumer: `dead letters ${deadLetterName(config.deadLetters!)}`, ...(partition === undefined ? {} : { partition }), redelivered: false, deadLettered: true });
  };
  const connection = onKafka ? (ctx.kafka ?? kafkaConnectionOf(ctx.env, undefined)) : { brokers: ctx.env.kafka ? ctx.env.getKafkaBrokers() : [], security: undefined };
  const brokers = connection.brokers;
  const kafka = new Kafka({ clientId: `chaos-${ctx.prefix}`, brokers, logLevel: logLevel.NOTHING, connectionTimeout: 3000, requestTimeout: 10_000, retry: { retries: 8, initialRetryTime: 250, maxRetryTime: 3000 }, ...kafkaClientOptions(connection) });
  const cleanups: (() => Promise<void>)[] = [];
  let closing = false;
  /** The output reader's progress, and how to ask the output topics' end offsets (Kafka outputs only). */
  const outputs = outputCatchUp();
  let outputEnds: (() => Promise<PartitionEnds>) | undefined;
  const cleanup = async (): Promise<void> => {
    closing = true;
    for (const c of cleanups.splice(0).reverse()) await c().catch((err: unknown) => event('service', `cleanup: ${errorMessage(err)}`));
  };
  let receiver: ServiceOtlpReceiver | undefined;
  let proc: ServiceProcess | undefined;
  let started: StartedService | undefined;
  let sending = true;
  let loops: Promise<void>[] = [];
  let sendInput: (id: string, key: string, seq: number, poison: boolean) => Promise<void> = () => Promise.reject(new Error('the service has not started'));
  let poisonSent = 0;
  try {
    receiver = await startServiceOtlpReceiver(onSpan, (m) => event('service', m), relayTo === undefined ? {} : { relayTo });
    if (relayTo !== undefined) event('service', `the harness's OTLP receiver relays ${config.name}'s spans to ${relayTo}; the traces invariants read them back from there`);
    const r = receiver;
    cleanups.push(() => r.close());
    let publish: (msg: InputMessage, headers: Record<string, string>, id: string, key: string) => Promise<{ partition?: number; offset?: string }>;
    let rabbit: RabbitInputPublisher | undefined;
    if (onKafka) {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      // Replicated on up to three nodes: a leader failover needs a follower in sync to take over.
      // (A Kafka the user runs lists no nodes: its default replication factor applies.)
      const nodes = ctx.env.kafka?.nodes.length ?? 0;
      const rf = nodes > 0 ? { replicationFactor: Math.min(3, nodes) } : {};
      const dlq = config.deadLetters && 'topic' in config.deadLetters ? [{ topic: config.deadLetters.topic, numPartitions: 1, ...rf }] : [];
      const wanted = [{ topic: destination, numPartitions: input.partitions ?? 3, ...rf }, ...config.outputs.map((o) => ({ topic: o.topic, numPartitions: 1, ...rf })), ...dlq].filter((t, i, all) => !existing.has(t.topic) && all.findIndex((u) => u.topic === t.topic) === i);
      await createTopicsWithLeaders(admin, wanted);
    } finally {
      await admin.disconnect();
    }
    const producer: Producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    cleanups.push(() => producer.disconnect());
    publish = async (msg, headers, _id, key) => {
      const [meta] = await producer.send({ topic: destination, acks: -1, timeout: SETTLE_TIMEOUT_MS, messages: [{ key: msg.key ?? key, value: msg.value, headers }] });
      return meta ? { partition: meta.partition, ...(meta.baseOffset === undefined ? {} : { offset: meta.baseOffset }) } : {};
    };

    // Outputs (and dead letters): read back from the start of the run, matched to inputs by trace or by a body field (dead letters by the chaos-id header).
    const dlqTopic = config.deadLetters && 'topic' in config.deadLetters ? config.deadLetters.topic : undefined;
    if (config.outputs.length > 0 || dlqTopic !== undefined) {
      // No kafkajs restart once closing: it would come after the disconnect and never stop.
      const consumer: Consumer = kafka.consumer({ groupId: `${ctx.prefix}-outputs`, sessionTimeout: 10_000, heartbeatInterval: 1000, maxWaitTimeInMs: 200, retry: { restartOnFailure: async () => !closing } });
      await consumer.connect();
      cleanups.push(() => consumer.disconnect());
      for (const o of config.outputs) await consumer.subscribe({ topic: o.topic, fromBeginning: false });
      if (dlqTopic !== undefined) await consumer.subscribe({ topic: dlqTopic, fromBeginning: false });
      // Read from the end of the output topics as they are when the group has joined: before the service starts.
      const joined = new Promise<void>((done) => consumer.on(consumer.events.GROUP_JOIN, () => done()));
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => outputs.read(payload.topic, payload.partition, payload.lastOffset));
      const outputTopics = config.outputs.map((o) => o.topic);
      if (outputTopics.length > 0) {
        outputEnds = async () => {
          const a = kafka.admin();
          await a.connect();
          try {
            const ends = new Map<string, bigint>();
            for (const topic of outputTopics) for (const p of await a.fetchTopicOffsets(topic)) ends.set(partitionKey(topic, p.partition), BigInt(p.high));
            return ends;
          } finally {
            await a.disconnect().catch(() => undefined);
          }
        };
      }
      await consumer.run({
        eachMessage: async ({ topic, partition, message }) => {
          if (topic === dlqTopic) {
            deadLettered(headerText(message.headers?.[HEADER.ID]), `${topic}[${partition}]@${message.offset}`, partition);
            return;
          }
          const out = config.outputs.find((o) => o.topic === topic);
          const sc = trace.getSpanContext(extractContext(message.headers));
          const match = out?.match ?? 'trace';
          const id = match === 'trace' ? (sc ? inputByTrace.get(sc.traceId) : undefined) : fieldOf(message.value, match.field);
          const input = id === undefined ? undefined : sentById.get(id);
          if (id === undefined || !input) {
            event('consume', `output ${topic}[${partition}]@${message.offset} matches no input of this run (${match === 'trace' ? `trace ${sc?.traceId ?? 'none'}` : `${match.field} ${JSON.stringify(id)}`})`);
            return;
          }
          const atMs = Date.now();
          consumed.push({ id, key: input.key, seq: input.seq, atMs, partition, redelivered: false, producerTraceId: sc?.traceId, producerSpanId: sc?.spanId, deadLettered: false });
          history({ type: 'delivery', t: atMs, id, key: input.key, seq: input.seq, consumer: `output ${topic}`, partition, offset: message.offset, redelivered: false, deadLettered: false, ...(sc ? { traceId: sc.traceId, spanId: sc.spanId } : {}) });
        },
      });
      await Promise.race([joined, delay(15_000)]);
      if (outputEnds) outputs.joined(await outputEnds());
    }
    } else {
      rabbit = rabbitInputPublisher(ctx.env.getAmqpUrl(), input, SETTLE_TIMEOUT_MS, (m) => event('produce', m));
      const rp = rabbit;
      cleanups.push(() => rp.close());
      await withDeadline(rp.ready(), 30_000, () => new ConfigError(`RabbitMQ did not accept the harness's input publisher within 30 s`, { hint: 'check that the broker is running (eda-harness env status)' }));
      publish = async (msg, headers, id) => {
        await rp.publish(msg.value, { headers, contentType: msg.contentType ?? 'application/json', messageId: id });
        return {};
      };
    }

    // The service, with the harness's brokers and telemetry receiver.
    const amqpUrl = ctx.env.rabbitmq?.amqpUrl;
    const managementUrl = ctx.env.rabbitmq?.managementUrl;
    // The addresses its clients see: the proxies when Toxiproxy is on, so network faults cut the service too.
    const proxied = (ctx.env.kafka?.nodes ?? []).some((n) => n.proxy !== undefined);
    const amqpProxied = ctx.env.rabbitmq?.proxy !== undefined;
    const given = [...(brokers.length > 0 ? [`KAFKA_BROKERS=${brokers.join(',')}${proxied ? ' (Toxiproxy proxies)' : ''}`] : []), ...(amqpUrl ? [`AMQP_URL=${redactUrl(amqpUrl)}${amqpProxied ? ' (Toxiproxy proxy)' : ''}`] : [])];
    event('service', `service ${config.name} is given ${given.join(' and ')}`);
    if (command) {
      const logDir = options.logDir ?? join(tmpdir(), `eda-harness-${ctx.prefix}`);
      const vars: Record<string, string> = {
        ...(brokers.length > 0 ? { KAFKA_BROKERS: brokers.join(',') } : {}),
        OTEL_EXPORTER_OTLP_ENDPOINT: r.endpoint,
        OTEL_BSP_SCHEDULE_DELAY: '200',
        ...(amqpUrl ? { AMQP_URL: amqpUrl } : {}),
        ...(managementUrl ? { RABBITMQ_MANAGEMENT_URL: managementUrl } : {}),
      };
      const instances = command.instances ?? 1;
      for (let i = 0; i < instances; i++) {
        const p = serviceProcess(instances === 1 ? config.name : `${config.name}#${i}`, command, config.baseDir, logDir, { ...vars, SERVICE_INSTANCE: String(i) }, (m) => event('service', m));
        // The service faults act on the first instance.
        if (i === 0) proc = p;
        await p.start();
        cleanups.push(() => p.stop());
      }
    } else {
      const provider = new BasicTracerProvider({ spanProcessors: [forwardingProcessor(onSpan)] });
      // What an SDK would give the service: the active span follows async calls, so a message it
      // produces while processing joins the trace. Refused (harmlessly) when the host has one.
      context.setGlobalContextManager(asyncContextManager());
      const factory = config.start as ServiceFactory;
      started = await factory({ kafkaBrokers: brokers, amqpUrl, managementUrl, otlpEndpoint: r.endpoint, tracerProvider: provider });
      const s = started;
      event('service', `service ${config.name} ${config.version} started in-process`);
      cleanups.push(async () => {
        await s.stop();
        await provider.shutdown();
      });
    }

    // RabbitMQ: the service declares its own topology; sending before it has would be refused or dropped.
    if (rabbit) {
      const missing = await rabbit.waitForTopology(config.telemetryTimeoutMs);
      if (missing !== undefined) throw new ConfigError(`service ${config.name}: ${missing}`, { hint: 'the service must declare the queue (or exchange) its input names at start-up; check inputs[0] in the service config' });
      if (config.deadLetters && 'queue' in config.deadLetters) {
        const reader = rabbitDeadLetterReader(ctx.env.getAmqpUrl(), config.deadLetters.queue, (m) => event('consume', m), (msg) => deadLettered(headerText(msg.properties.headers?.[HEADER.ID]), `queue ${deadLetterName(config.deadLetters!)}`, undefined));
        cleanups.push(() => reader.close());
        await withDeadline(reader.ready(), config.telemetryTimeoutMs, () => new ConfigError(`service ${config.name}: its dead-letter queue ${config.deadLetters && 'queue' in config.deadLetters ? config.deadLetters.queue : ''} was not declared within ${config.telemetryTimeoutMs} ms`, { hint: 'check deadLetters in the service config' }));
      }
    }

    // Inputs: one sender per key, each send settled before the next, paced to the rate.
    const keys = input.keys ?? 4;
    const rate = input.messagesPerSecond ?? 10;
    const intervalMs = (keys / rate) * 1000;
    sendInput = async (id: string, key: string, seq: number, poison: boolean): Promise<void> => {
      const traceId = hex(16);
      const spanId = hex(8);
      const msg = poison ? (input.poison?.(id, key, seq) ?? { ...input.message(id, key, seq), value: POISON_VALUE }) : input.message(id, key, seq);
      const headers = { ...(msg.headers ?? {}), [HEADER.ID]: id, [HEADER.KEY]: key, [HEADER.SEQ]: String(seq), traceparent: `00-${traceId}-${spanId}-01` };
      const sentAtMs = Date.now();
      const base = { id, key, seq, poison, traceId, spanId };
      inputByContext.set(`${traceId}/${spanId}`, { ...base, sentAtMs, ackedAtMs: undefined, error: undefined });
      inputByTrace.set(traceId, id);
      sentById.set(id, { key, seq, traceId });
      history({ type: 'send', t: sentAtMs, id, key, seq, poison, destination, traceId, spanId });
      try {
        const meta = await publish(msg, headers, id, key);
        const t = Date.now();
        sent.push({ ...base, sentAtMs, ackedAtMs: t, error: undefined });
        history({ type: 'send-ack', t, id, ...meta });
      } catch (err) {
        const t = Date.now();
        sent.push({ ...base, sentAtMs, ackedAtMs: undefined, error: errorMessage(err) });
        history({ type: 'send-failed', t, id, error: errorMessage(err) });
      }
    };
    loops = Array.from({ length: keys }, async (_, k) => {
      const key = `k${k}`;
      await delay((intervalMs * k) / keys);
      for (let seq = 0; sending; seq++) {
        const t0 = Date.now();
        await sendInput(`${ctx.prefix}-${key}-${seq}`, key, seq, false);
        const wait = intervalMs - (Date.now() - t0);
        if (wait > 0 && sending) await delay(wait);
      }
    });

    // A service that sends no spans cannot be observed: say what to add rather than report losses.
    await waitUpTo(() => spansReceived > 0, { description: `a span from ${config.name}`, timeoutMs: config.telemetryTimeoutMs, intervalMs: 100 });
    if (spansReceived === 0) {
      const wrap = onKafka ? 'wrap its kafkajs client with instrumentKafka' : 'wrap its amqplib connection with instrumentAmqp';
      const what = command
        ? `call startTelemetry({ serviceName }) from @eda-harness/instrumentation at start-up and ${wrap}; the SDK exports to OTEL_EXPORTER_OTLP_ENDPOINT, which the harness sets to its own receiver`
        : `${wrap} from @eda-harness/instrumentation, passing the tracerProvider the start factory receives`;
      throw new ConfigError(`service ${config.name} sent no spans within ${config.telemetryTimeoutMs} ms of starting, so the harness cannot see it process its inputs: ${what}`, { hint: 'see "A service under test" in docs/chaos.md' });
    }
  } catch (err) {
    sending = false;
    await Promise.all(loops);
    await cleanup();
    throw err;
  }

  // Inputs whose process span was lost (a SIGKILL) show up in the effects probe: asked at most once a second.
  let effectsSeen = new Set<string>();
  let probing = false;
  let lastProbeMs = 0;
  // Once every input is done, the output reader must reach the output topics' ends as they are
  // then (asked once), for at most OUTPUT_CATCH_UP_MS: outputs still unread would go uncounted.
  let inputsDoneAtMs: number | undefined;
  let drainEnds: PartitionEnds | undefined;
  let askingEnds = false;
  const outputsRead = (): boolean => {
    if (!outputEnds) return true;
    inputsDoneAtMs ??= Date.now();
    if (drainEnds === undefined) {
      if (!askingEnds) {
        askingEnds = true;
        void outputEnds()
          .then((ends) => (drainEnds = ends))
          .catch((err: unknown) => {
            event('consume', `could not ask the output topics' end offsets (${errorMessage(err)}); outputs are counted as read so far`);
            drainEnds = new Map();
          })
          .finally(() => (askingEnds = false));
      }
      return false;
    }
    const behind = outputs.behind(drainEnds);
    if (behind.length === 0) return true;
    if (Date.now() - inputsDoneAtMs < OUTPUT_CATCH_UP_MS) return false;
    event('consume', `the output reader did not reach the end of its topics within ${OUTPUT_CATCH_UP_MS} ms of the last input being processed (${behind.join(', ')}); outputs after that are not counted`);
    drainEnds = new Map();
    return true;
  };
  const drained = (): boolean => {
    // A poison input is done once dead-lettered (when the harness reads the dead letters), a good one once processed.
    const done = (m: SentMessage): boolean => (m.poison && config.deadLetters ? deadLetteredIds.has(m.id) : processed.has(m.id) || effectsSeen.has(m.id) || consumed.some((c) => c.id === m.id));
    const pending = sent.filter((m) => m.ackedAtMs !== undefined && !done(m));
    if (pending.length === 0) return outputsRead();
    const probe = config.effects;
    if (probe && !probing && Date.now() - lastProbeMs > 1000) {
      probing = true;
      lastProbeMs = Date.now();
      void probe()
        .then((counts) => (effectsSeen = new Set(Object.keys(counts).filter((id) => (counts[id] ?? 0) > 0))))
        .catch(() => undefined)
        .finally(() => (probing = false));
    }
    return false;
  };
  const stopSending = async (): Promise<void> => {
    sending = false;
    await Promise.all(loops);
  };
  return {
    proc,
    running: {
      destination,
      recordsHistory: true,
      ...(relayTo === undefined ? {} : { spansReadBack: true, relayedSpans: () => receiver!.relayed() }),
      drained,
      // Poison inputs on a key of their own (so the per-key order of the good ones is untouched), one after the other.
      async sendPoison(count) {
        for (let i = 0; i < count; i++, poisonSent++) await sendInput(`${ctx.prefix}-poison-${poisonSent}`, 'poison', poisonSent, true);
      },
      stopSending,
      async close() {
        await stopSending();
        await cleanup();
        if (config.effects) {
          try {
            const counts = await config.effects();
            const t = Date.now();
            let total = 0;
            for (const [id, n] of Object.entries(counts)) {
              if (!sentById.has(id)) continue;
              for (let i = 0; i < n; i++) history({ type: 'effect', t, id, effect: config.effectName });
              total += n;
            }
            event('service', `effects probe: ${total} ${config.effectName}s over the ${sentById.size} inputs of this run`);
          } catch (err) {
            event('service', `effects probe failed: ${errorMessage(err)}`);
            throw new Error(`the effects probe of ${config.name} failed: ${errorMessage(err)}`);
          }
        }
      },
      sent: () => sent,
      consumed: () => consumed,
      events: () => events,
    },
  };
}
