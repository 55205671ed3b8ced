import { existsSync } from 'node:fs';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TracerProvider } from '@opentelemetry/api';
import { ConfigError, errorMessage } from '@eda-harness/core';
import type { ChaosSystem } from '../types';

/**
 * A service under test, described once by its team in `chaos.config.js` (or `.mjs`, `.cjs`; a
 * `.ts` config loads through the team's own loader, e.g. `node --import tsx`): what it is, how the
 * harness starts it, what it consumes and produces, and how to count the effects it applied.
 * `validateServiceConfig` checks a loaded module and says, per field, what is wrong and what to
 * write; it is pure, so its messages are unit-tested.
 */

/** Where the harness's brokers and telemetry receiver are, handed to the service. */
export interface ServiceBrokers {
  readonly kafkaBrokers: readonly string[];
  readonly amqpUrl: string | undefined;
  readonly managementUrl: string | undefined;
  /** The harness's OTLP/HTTP receiver (base URL: the exporter appends /v1/traces); JSON encoding. */
  readonly otlpEndpoint: string;
  /**
   * A tracer provider whose spans the harness records directly: an in-process service may use it
   * (for the instrumentation wrappers) instead of exporting to `otlpEndpoint`.
   */
  readonly tracerProvider: TracerProvider;
}

/** A running in-process service. */
export interface StartedService {
  stop(): Promise<void>;
}

/** Starts the service in the harness's process. Cannot be SIGKILLed: use a command for service faults. */
export type ServiceFactory = (brokers: ServiceBrokers) => Promise<StartedService>;

/**
 * Starts the service as a child process, with KAFKA_BROKERS, AMQP_URL, RABBITMQ_MANAGEMENT_URL,
 * OTEL_EXPORTER_OTLP_ENDPOINT (the harness's receiver reads OTLP/HTTP protobuf and JSON, so the
 * SDK's default protocol works; and OTEL_BSP_SCHEDULE_DELAY=200) added to `env` and the harness's environment.
 */
export interface ServiceCommand {
  readonly command: string;
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** Working directory (default: the config file's folder). */
  readonly cwd?: string;
  /**
   * Processes to run (default 1; at most 4), each with SERVICE_INSTANCE=0, 1, …: members of one
   * consumer group. The service faults act on instance 0, so with 2 one member fails and the
   * other must take over its partitions.
   */
  readonly instances?: number;
  /**
   * Start the service again (after 1 s) when it exits by itself, as its orchestrator would (a
   * Kubernetes restart policy): for a service that exits on a lost broker connection rather than
   * reconnecting. Each such exit is in the history. Default false: an exit is reported, not repaired.
   */
  readonly restartOnExit?: boolean;
}

/** A message the harness sends: its body and optional headers, made from the input's identity. */
export interface InputMessage {
  readonly value: string;
  /** The Kafka key (default the harness's key, `k0`…); a service keyed by business id returns that id. */
  readonly key?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** AMQP content type of a RabbitMQ input (default application/json). */
  readonly contentType?: string;
  /**
   * A poison input (sent when the scenario asks for poison, see `poisonEvery`): a message the
   * service must reject and dead-letter, never apply. Default: this message with a body that is
   * not JSON.
   */
  readonly poison?: boolean;
}

/**
 * What the service consumes: a Kafka `topic`, or on RabbitMQ a `queue` (published through the
 * default exchange) or an `exchange` with a `routingKey`. The service declares its own RabbitMQ
 * topology; the harness waits for it before sending, and counts an unroutable publish as failed.
 */
export interface ServiceInput {
  /** Kafka topic the service consumes (created by the harness when missing). */
  readonly topic?: string;
  /** RabbitMQ queue the service consumes, published to through the default exchange. */
  readonly queue?: string;
  /** RabbitMQ exchange the inputs are published to (with `routingKey`). */
  readonly exchange?: string;
  readonly routingKey?: string;
  /**
   * For an exchange input: the queue the service consumes behind it (optional). With it, the
   * service-kill scenario checks that the alert pack pages for that queue left without a consumer
   * (RabbitMqQueueWithoutConsumers), as it does for a queue input.
   */
  readonly serviceQueue?: string;
  /** Partitions when the harness creates the topic (default 3). */
  readonly partitions?: number;
  /**
   * The message for input `id` (unique in the run) on `key` with per-key sequence number `seq`.
   * The harness adds the identity headers and `traceparent`; use `id` as the business id (an
   * order id) so outputs and effects can be matched to inputs.
   */
  readonly message: (id: string, key: string, seq: number) => InputMessage;
  /** Distinct keys (default 4). */
  readonly keys?: number;
  /** Target send rate over all keys (default 10 messages per second). */
  readonly messagesPerSecond?: number;
  /**
   * Makes one input in `poisonEvery` (by sequence number, per key) a poison input in the
   * `<name>-poison-messages` scenario: `poison(id, key, seq)` gives its message (default: the
   * template's message with a body that is not JSON). The service must dead-letter each and apply none.
   */
  readonly poisonEvery?: number;
  readonly poison?: (id: string, key: string, seq: number) => InputMessage;
}

/** Where the service dead-letters what it rejects: a Kafka topic or a RabbitMQ queue the harness reads. */
export type ServiceDeadLetters = { readonly topic: string } | { readonly queue: string };

export interface ServiceOutput {
  readonly topic: string;
  /**
   * How an output names its input (default: by trace: the output carries the input's trace id in
   * its `traceparent`). `{ field: 'orderId' }` reads a top-level or dotted JSON field of the body.
   */
  readonly match?: 'trace' | { readonly field: string };
}

export interface ServiceConfig {
  readonly name: string;
  readonly version: string;
  /** The broker the inputs go to (default: rabbitmq for an input with a queue or an exchange, else kafka). */
  readonly system?: ChaosSystem;
  readonly start: ServiceFactory | ServiceCommand;
  readonly inputs: readonly ServiceInput[];
  readonly outputs?: readonly ServiceOutput[];
  /**
   * Where the service dead-letters inputs it rejects: read by the harness (each message there is
   * matched to its input by the chaos-id header, which dead-lettering keeps), so a dead-lettered
   * input counts as handled, not lost; and in the poison scenario every poison input must be there.
   */
  readonly deadLetters?: ServiceDeadLetters;
  /**
   * Called after the run (the service stopped): how many times each input's effect was applied,
   * by input id (reservations per order id). Ids not listed were applied 0 times.
   */
  readonly effects?: () => Promise<Readonly<Record<string, number>>>;
  /** The name of the effect in reports (default `effect`), e.g. `reservation`. */
  readonly effectName?: string;
  /** The service keeps per-key order: the order invariant is checked. */
  readonly orderedPerKey?: boolean;
  /** How long the service may take to send its first span (default 15 000 ms). */
  readonly telemetryTimeoutMs?: number;
}

/** A validated config with its defaults and where it came from. */
export interface ResolvedServiceConfig extends ServiceConfig {
  readonly system: ChaosSystem;
  readonly outputs: readonly ServiceOutput[];
  readonly effectName: string;
  readonly orderedPerKey: boolean;
  readonly telemetryTimeoutMs: number;
  /** Folder of the config file ('.' when built in code): the child's default cwd. */
  readonly baseDir: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown): string => (typeof v === 'function' ? 'a function' : v === undefined ? 'missing' : Array.isArray(v) ? (v.length === 0 ? 'an empty list' : 'a list') : JSON.stringify(v));
const TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;
// Empty is the default exchange's name, but an input names a real one.
const AMQP_NAME = /^[^\s]{1,255}$/;

/** The broker a config's inputs go to: its `system`, else RabbitMQ when an input names a queue or an exchange. */
function systemOf(c: ServiceConfig): ChaosSystem {
  return c.system ?? (c.inputs.some((i) => i.queue !== undefined || i.exchange !== undefined) ? 'rabbitmq' : 'kafka');
}

/**
 * Every problem of a config, each naming the field, what it is and what to write; empty when valid.
 * `source` prefixes the messages (the file name).
 */
export function serviceConfigProblems(raw: unknown): string[] {
  if (!isObject(raw)) return [`the config is ${show(raw)}, expected an object: export default { name, version, start, inputs }`];
  const p: string[] = [];
  const nonEmpty = (field: string, hint: string): void => {
    const v = raw[field];
    if (typeof v !== 'string' || v.trim() === '') p.push(`${field} is ${show(v)}: write ${hint}`);
  };
  nonEmpty('name', "the service's name, e.g. name: 'inventory-service'");
  nonEmpty('version', "the version under test, e.g. version: '1.4.2' (shown in the report)");
  if (raw['system'] !== undefined && raw['system'] !== 'kafka' && raw['system'] !== 'rabbitmq') p.push(`system is ${show(raw['system'])}: write 'kafka' or 'rabbitmq' (or leave it out: an input with a queue or an exchange is RabbitMQ's)`);
  const start = raw['start'];
  if (typeof start === 'function') {
    // a factory: nothing more to check before it runs
  } else if (isObject(start)) {
    if (typeof start['command'] !== 'string' || start['command'] === '') p.push(`start.command is ${show(start['command'])}: write the program, e.g. start: { command: process.execPath, args: ['dist/main.js'] }`);
    if (start['args'] !== undefined && !(Array.isArray(start['args']) && start['args'].every((a) => typeof a === 'string'))) p.push(`start.args is ${show(start['args'])}: write an array of strings`);
    if (start['env'] !== undefined && !(isObject(start['env']) && Object.values(start['env']).every((v) => typeof v === 'string'))) p.push(`start.env is ${show(start['env'])}: write an object of string values, e.g. { LOG_LEVEL: 'warn' }`);
    if (start['cwd'] !== undefined && typeof start['cwd'] !== 'string') p.push(`start.cwd is ${show(start['cwd'])}: write a folder path`);
    if (start['restartOnExit'] !== undefined && typeof start['restartOnExit'] !== 'boolean') p.push(`start.restartOnExit is ${show(start['restartOnExit'])}: write true or false`);
    const n = start['instances'];
    if (n !== undefined && !(typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 4)) p.push(`start.instances is ${show(n)}: write a whole number from 1 to 4`);
  } else {
    p.push(`start is ${show(start)}: write a factory, start: async ({ kafkaBrokers, otlpEndpoint }) => ({ stop }), or a command, start: { command, args, env }`);
  }
  const inputs = raw['inputs'];
  if (!Array.isArray(inputs) || inputs.length === 0) {
    p.push(`inputs is ${show(inputs)}: write at least one, inputs: [{ topic: 'orders', message: (id, key, seq) => ({ value: JSON.stringify({ orderId: id }) }) }]`);
  } else {
    inputs.forEach((input: unknown, i) => {
      const at = `inputs[${i}]`;
      if (!isObject(input)) return void p.push(`${at} is ${show(input)}: write { topic, message } (Kafka) or { queue, message } / { exchange, routingKey, message } (RabbitMQ)`);
      const amqp = input['queue'] !== undefined || input['exchange'] !== undefined;
      if (amqp && input['topic'] !== undefined) p.push(`${at} names a topic and a ${input['queue'] !== undefined ? 'queue' : 'exchange'}: write a topic (Kafka) or a queue / exchange (RabbitMQ), not both`);
      else if (!amqp && (typeof input['topic'] !== 'string' || !TOPIC.test(input['topic']))) p.push(`${at}.topic is ${show(input['topic'])}: write a Kafka topic name (letters, digits, . _ -), or for RabbitMQ a queue: 'emails' or an exchange: 'notifications' with a routingKey`);
      if (amqp) {
        if (input['queue'] !== undefined && input['exchange'] !== undefined) p.push(`${at} names a queue and an exchange: write a queue (sent through the default exchange) or an exchange with a routingKey`);
        if (input['serviceQueue'] !== undefined && input['exchange'] === undefined) p.push(`${at}.serviceQueue names the queue behind an exchange input, but this input has no exchange: leave it out (a queue input is the service's queue)`);
        for (const f of ['queue', 'exchange', 'routingKey', 'serviceQueue']) if (input[f] !== undefined && (typeof input[f] !== 'string' || !AMQP_NAME.test(input[f]))) p.push(`${at}.${f} is ${show(input[f])}: write a RabbitMQ name (up to 255 characters)`);
        if (input['exchange'] !== undefined && input['routingKey'] === undefined) p.push(`${at}.routingKey is missing: an exchange input needs the routing key the service's queue is bound with, e.g. routingKey: 'email'`);
        if (raw['system'] === 'kafka') p.push(`${at} names a RabbitMQ ${input['queue'] !== undefined ? 'queue' : 'exchange'} but system is 'kafka'`);
      } else {
        if (raw['system'] === 'rabbitmq') p.push(`${at} names a Kafka topic but system is 'rabbitmq': write a queue or an exchange with a routingKey`);
        if (input['serviceQueue'] !== undefined) p.push(`${at}.serviceQueue is for a RabbitMQ exchange input; a Kafka input names its topic only`);
      }
      if (typeof input['message'] !== 'function') p.push(`${at}.message is ${show(input['message'])}: write a function (id, key, seq) => ({ value, headers? })`);
      if (input['poison'] !== undefined && typeof input['poison'] !== 'function') p.push(`${at}.poison is ${show(input['poison'])}: write a function (id, key, seq) => ({ value, headers? }) giving a message the service must reject`);
      const whole = (field: string, min: number): void => {
        const v = input[field];
        if (v !== undefined && !(typeof v === 'number' && Number.isInteger(v) && v >= min)) p.push(`${at}.${field} is ${show(v)}: write a whole number ≥ ${min}`);
      };
      whole('partitions', 1);
      whole('keys', 1);
      whole('poisonEvery', 2);
      const rate = input['messagesPerSecond'];
      if (rate !== undefined && !(typeof rate === 'number' && rate > 0 && rate <= 1000)) p.push(`${at}.messagesPerSecond is ${show(rate)}: write a number above 0 and at most 1000`);
    });
    if (inputs.length > 1) p.push(`inputs has ${inputs.length} entries: only one input is driven so far; keep the one the scenario is about`);
  }
  const outputs = raw['outputs'];
  if (outputs !== undefined) {
    if (!Array.isArray(outputs)) p.push(`outputs is ${show(outputs)}: write an array, outputs: [{ topic: 'orders.reserved' }]`);
    else
      outputs.forEach((o: unknown, i) => {
        const at = `outputs[${i}]`;
        if (!isObject(o)) return void p.push(`${at} is ${show(o)}: write { topic, match? }`);
        if (typeof o['topic'] !== 'string' || !TOPIC.test(o['topic'])) p.push(`${at}.topic is ${show(o['topic'])}: write a Kafka topic name (letters, digits, . _ -)`);
        const m = o['match'];
        if (m !== undefined && m !== 'trace' && !(isObject(m) && typeof m['field'] === 'string' && m['field'] !== '')) p.push(`${at}.match is ${show(m)}: write 'trace' or { field: 'orderId' }`);
      });
  }
  const dl = raw['deadLetters'];
  if (dl !== undefined) {
    const rabbit = Array.isArray(inputs) && inputs.some((i: unknown) => isObject(i) && (i['queue'] !== undefined || i['exchange'] !== undefined));
    if (!isObject(dl) || (dl['topic'] === undefined) === (dl['queue'] === undefined)) p.push(`deadLetters is ${show(dl)}: write { topic: 'orders.dlq' } (Kafka) or { queue: 'emails.dlq' } (RabbitMQ)`);
    else if (dl['topic'] !== undefined && (typeof dl['topic'] !== 'string' || !TOPIC.test(dl['topic']))) p.push(`deadLetters.topic is ${show(dl['topic'])}: write a Kafka topic name`);
    else if (dl['queue'] !== undefined && (typeof dl['queue'] !== 'string' || !AMQP_NAME.test(dl['queue']))) p.push(`deadLetters.queue is ${show(dl['queue'])}: write a RabbitMQ queue name`);
    else if (rabbit !== (dl['queue'] !== undefined)) p.push(`deadLetters names a ${dl['queue'] !== undefined ? 'queue' : 'topic'} but the inputs are ${rabbit ? 'RabbitMQ' : 'Kafka'}'s: dead letters are read from the inputs' broker`);
  }
  if (Array.isArray(outputs) && outputs.length > 0 && Array.isArray(inputs) && inputs.some((i: unknown) => isObject(i) && (i['queue'] !== undefined || i['exchange'] !== undefined))) {
    p.push('outputs are read from Kafka topics, but the inputs are RabbitMQ\'s: leave outputs out (the effects probe and the process spans show what the service did)');
  }
  if (raw['effects'] !== undefined && typeof raw['effects'] !== 'function') p.push(`effects is ${show(raw['effects'])}: write an async function returning counts by input id, e.g. async () => ({ 'order-1': 1 })`);
  if (raw['effectName'] !== undefined && (typeof raw['effectName'] !== 'string' || raw['effectName'] === '')) p.push(`effectName is ${show(raw['effectName'])}: write a word, e.g. 'reservation'`);
  if (raw['orderedPerKey'] !== undefined && typeof raw['orderedPerKey'] !== 'boolean') p.push(`orderedPerKey is ${show(raw['orderedPerKey'])}: write true or false`);
  const t = raw['telemetryTimeoutMs'];
  if (t !== undefined && !(typeof t === 'number' && Number.isFinite(t) && t > 0)) p.push(`telemetryTimeoutMs is ${show(t)}: write a positive number of milliseconds`);
  return p;
}

/** The config with its defaults, or a ConfigError listing every problem. */
export function validateServiceConfig(raw: unknown, source = 'the service config', baseDir = '.'): ResolvedServiceConfig {
  const unwrapped = isObject(raw) && isObject(raw['default']) && raw['name'] === undefined ? raw['default'] : raw;
  const problems = serviceConfigProblems(unwrapped);
  if (problems.length > 0) {
    throw new ConfigError(`${source}: ${problems.length === 1 ? problems[0] : `${problems.length} problems:\n  - ${problems.join('\n  - ')}`}`, {
      hint: 'see "A service under test" in docs/chaos.md for a complete chaos.config.js',
    });
  }
  const c = unwrapped as unknown as ServiceConfig;
  return {
    ...c,
    system: systemOf(c),
    outputs: c.outputs ?? [],
    effectName: c.effectName ?? 'effect',
    orderedPerKey: c.orderedPerKey ?? false,
    telemetryTimeoutMs: c.telemetryTimeoutMs ?? 15_000,
    baseDir,
  };
}

/**
 * Loads and validates a config module: `.js`/`.cjs`/`.mjs` by Node's own loader, `.ts` only when
 * the process runs with a TypeScript loader (the error says how). A module describes one service
 * (its default export, or `module.exports`) or several: an array, or `{ services: [...] }` (a
 * system's services checked in one run, as the reference config does with inventory and
 * notification). `name` picks one of several.
 */
export async function loadServiceConfig(path: string, name?: string): Promise<ResolvedServiceConfig> {
  const all = await loadServiceConfigs(path);
  if (name === undefined && all.length === 1) return all[0]!;
  const found = all.find((c) => c.name === name);
  if (!found) {
    const names = all.map((c) => c.name).join(', ');
    throw new ConfigError(name === undefined ? `service config ${path} describes ${all.length} services (${names}): say which` : `service config ${path} has no service named "${name}"`, { hint: `its services: ${names}` });
  }
  return found;
}

/** Every service a config module describes (one, an array, or `{ services }`), each validated; names must differ. */
export async function loadServiceConfigs(path: string): Promise<ResolvedServiceConfig[]> {
  const abs = isAbsolute(path) ? path : resolve(path);
  if (!existsSync(abs)) throw new ConfigError(`service config ${path}: no such file`, { hint: 'pass the path of your chaos.config.js to --service' });
  let mod: unknown;
  try {
    mod = extname(abs) === '.mjs' ? await importEsm(pathToFileURL(abs).href) : requireOrImport(abs);
    if (mod instanceof Promise) mod = await mod;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ERR_UNKNOWN_FILE_EXTENSION' || (extname(abs) === '.ts' && err instanceof SyntaxError)) {
      throw new ConfigError(`service config ${path}: Node cannot load a .ts file by itself`, { hint: 'compile it to .js, or run the CLI with a TypeScript loader: node --import tsx node_modules/.bin/eda-harness chaos run --service chaos.config.ts' });
    }
    throw new ConfigError(`service config ${path} could not be loaded: ${errorMessage(err)}`, { hint: 'run it with node to see the error in full' });
  }
  // CommonJS: module.exports (or exports.default); ESM: the default export.
  const m = mod as Record<string, unknown>;
  const candidate: unknown = isObject(m) && (isObject(m['default']) || Array.isArray(m['default'])) ? m['default'] : m;
  const list: unknown = isObject(candidate) && Array.isArray(candidate['services']) && candidate['name'] === undefined ? candidate['services'] : candidate;
  if (!Array.isArray(list)) return [validateServiceConfig(list, `service config ${path}`, dirname(abs))];
  if (list.length === 0) throw new ConfigError(`service config ${path} exports an empty list of services`, { hint: 'export one service config, or a list of them' });
  const configs = list.map((c, i) => validateServiceConfig(c, `service config ${path} [${i}]`, dirname(abs)));
  const dup = configs.find((c, i) => configs.findIndex((d) => d.name === c.name) !== i);
  if (dup) throw new ConfigError(`service config ${path} names two services "${dup.name}"`, { hint: 'each service needs its own name: the scenarios are named <name>-<fault>' });
  return configs;
}

/** A real dynamic import (TypeScript's CommonJS output would turn `import()` into `require`). */
const importEsm = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

function requireOrImport(abs: string): unknown {
  try {
    // Evaluated afresh on each load: a config that names its topics or queues per load (as the
    // reference one does) gives each load its own, even in one process (tests).
    delete require.cache[abs];
    return require(abs) as unknown;
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ERR_REQUIRE_ESM') return importEsm(pathToFileURL(abs).href);
    throw err;
  }
}
