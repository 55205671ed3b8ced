import { isIPv6 } from 'node:net';
import { Kafka, logLevel } from 'kafkajs';
import { BrokerUnreachableError, ConfigError, HttpRequestError, KAFKA_SECURITY_VARIABLES, UnsupportedError, errorMessage, kafkaClientSecurity, kafkaSecurityFromEnv, requestText, waitFor } from '@eda-harness/core';
import type { KafkaClientSecurity } from '@eda-harness/core';
import type { NodeHandle, StartedJaeger, StartedKafka, StartedPrometheus, StartedRabbitMq, KafkaNodeHandle } from '../types';

/**
 * Services named by the user: KAFKA_BROKERS, AMQP_URL, RABBITMQ_MANAGEMENT_URL, PROMETHEUS_URL,
 * JAEGER_QUERY_URL with OTEL_EXPORTER_OTLP_ENDPOINT.
 */
export interface ExternalSettings {
  readonly kafkaBrokers: string[] | undefined;
  readonly amqpUrl: string | undefined;
  readonly managementUrl: string | undefined;
  readonly prometheusUrl: string | undefined;
  /** Jaeger's query API (JAEGER_QUERY_URL), trailing slashes removed. */
  readonly jaegerQueryUrl: string | undefined;
  /** Where spans go over OTLP/HTTP (OTEL_EXPORTER_OTLP_ENDPOINT), trailing slashes removed. */
  readonly otlpEndpoint: string | undefined;
}

export function externalSettings(env: NodeJS.ProcessEnv = process.env): ExternalSettings {
  const brokers = env['KAFKA_BROKERS']
    ?.split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  return {
    kafkaBrokers: brokers && brokers.length > 0 ? brokers : undefined,
    amqpUrl: env['AMQP_URL'] || undefined,
    managementUrl: env['RABBITMQ_MANAGEMENT_URL'] || undefined,
    prometheusUrl: env['PROMETHEUS_URL'] || undefined,
    jaegerQueryUrl: env['JAEGER_QUERY_URL'] ? env['JAEGER_QUERY_URL'].replace(/\/+$/, '') : undefined,
    otlpEndpoint: env['OTEL_EXPORTER_OTLP_ENDPOINT'] ? env['OTEL_EXPORTER_OTLP_ENDPOINT'].replace(/\/+$/, '') : undefined,
  };
}

const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

/** Why `entry` is not `host:port` (a host name, an IPv4 address or a bracketed IPv6 address), if it is not. */
export function hostPortProblem(entry: string): string | undefined {
  const m = /^(\[[^\]]*\]|[^:[\]]*):([^:]*)$/.exec(entry);
  if (!m) return 'expected host:port';
  const [, host = '', port = ''] = m;
  if (host === '') return 'no host before the ":"';
  if (host.startsWith('[') ? !isIPv6(host.slice(1, -1)) : !HOST_NAME.test(host)) return `"${host}" is not a host name or IP address`;
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) return `the port "${port}" is not a number from 1 to 65535`;
  return undefined;
}

/** A URL for messages, its password hidden. */
function shown(url: string): string {
  return url.replace(/(\/\/[^/:@]*:)[^/@]*@/, '$1***@');
}

function urlProblem(value: string, protocols: readonly string[]): string | undefined {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return 'it is not a URL';
  }
  if (!protocols.includes(u.protocol)) return `its scheme is ${u.protocol.replace(/:$/, '')}, not ${protocols.map((p) => p.replace(/:$/, '')).join(' or ')}`;
  if (u.hostname === '') return 'it names no host';
  return undefined;
}

/**
 * Checks the variables that name `service` as an external one, before anything is started: every
 * KAFKA_BROKERS entry must be host:port, AMQP_URL an amqp(s):// URL, RABBITMQ_MANAGEMENT_URL and
 * PROMETHEUS_URL http(s):// URLs; JAEGER_QUERY_URL and OTEL_EXPORTER_OTLP_ENDPOINT both set, both
 * http(s):// URLs. A ConfigError names each bad entry.
 */
export function checkExternalSettings(service: 'kafka' | 'rabbitmq' | 'prometheus' | 'jaeger', env: NodeJS.ProcessEnv = process.env): void {
  const problems: string[] = [];
  const url = (variable: string, protocols: readonly string[]): void => {
    const value = env[variable];
    if (!value) return;
    const problem = urlProblem(value, protocols);
    if (problem !== undefined) problems.push(`${variable} "${shown(value)}": ${problem}`);
  };
  if (service === 'kafka') {
    for (const entry of externalSettings(env).kafkaBrokers ?? []) {
      const problem = hostPortProblem(entry);
      if (problem !== undefined) problems.push(`"${entry}": ${problem}`);
    }
    if (problems.length > 0) {
      throw new ConfigError(`KAFKA_BROKERS has ${problems.length === 1 ? 'an invalid entry' : 'invalid entries'}: ${problems.join('; ')}`, {
        hint: 'KAFKA_BROKERS is a comma-separated list of host:port, e.g. 127.0.0.1:9092,127.0.0.1:9093.',
      });
    }
    return;
  }
  if (service === 'jaeger') {
    url('JAEGER_QUERY_URL', ['http:', 'https:']);
    url('OTEL_EXPORTER_OTLP_ENDPOINT', ['http:', 'https:']);
    for (const variable of ['JAEGER_QUERY_URL', 'OTEL_EXPORTER_OTLP_ENDPOINT']) if (!env[variable]) problems.push(`${variable}: it is not set`);
    if (problems.length > 0) {
      throw new ConfigError(`an external Jaeger needs both JAEGER_QUERY_URL (its query API) and OTEL_EXPORTER_OTLP_ENDPOINT (where spans are sent over OTLP/HTTP): ${problems.join('; ')}`, {
        hint: 'For example JAEGER_QUERY_URL=http://127.0.0.1:16686 OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318; or unset JAEGER_QUERY_URL to let eda-harness start its own Jaeger.',
      });
    }
    return;
  }
  if (service === 'rabbitmq') {
    url('AMQP_URL', ['amqp:', 'amqps:']);
    url('RABBITMQ_MANAGEMENT_URL', ['http:', 'https:']);
  } else {
    url('PROMETHEUS_URL', ['http:', 'https:']);
  }
  if (problems.length > 0) throw new ConfigError(`invalid ${problems.join('; ')}`, { hint: 'For example AMQP_URL=amqp://guest:guest@127.0.0.1:5672, RABBITMQ_MANAGEMENT_URL=http://127.0.0.1:15672, PROMETHEUS_URL=http://127.0.0.1:9090.' });
}

/** How long the external provider waits for a service to answer. */
const ANSWER_TIMEOUT_MS = 10_000;

async function kafkaAnswers(address: string, security: KafkaClientSecurity): Promise<true> {
  const kafka = new Kafka({ clientId: 'eda-harness-probe', brokers: [address], logLevel: logLevel.NOTHING, connectionTimeout: 1500, requestTimeout: 3000, retry: { retries: 0 }, ...security });
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.describeCluster();
    return true;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

async function amqpAnswers(url: string): Promise<true> {
  const amqp = await import('amqplib');
  const conn = await amqp.connect(url, { timeout: 2000 });
  await conn.close().catch(() => undefined);
  return true;
}

/** Any HTTP answer counts (a 401 from a management API too): the server is there. */
async function httpAnswers(url: string): Promise<true> {
  const u = new URL(url);
  u.username = '';
  u.password = '';
  try {
    await requestText(u.toString(), { timeoutMs: 3000 });
  } catch (err) {
    if (!(err instanceof HttpRequestError) || err.status === undefined) throw err;
  }
  return true;
}

/**
 * Waits until every probe answers (each retried for up to 10 s, all at once); a
 * BrokerUnreachableError names every one that did not, with its last error.
 */
export async function untilAnswering(what: string, probes: readonly { readonly name: string; readonly probe: () => Promise<true> }[], timeoutMs = ANSWER_TIMEOUT_MS): Promise<void> {
  const results = await Promise.allSettled(probes.map((p) => waitFor(p.probe, { description: p.name, timeoutMs, intervalMs: 250 })));
  const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`${probes[i]?.name}: ${errorMessage(r.reason)}`] : []));
  if (failed.length > 0) {
    throw new BrokerUnreachableError(`${what} does not answer: ${failed.join('; ')}`, {
      hint: 'Check that the service is running and that the variable names it, or unset the variable to let eda-harness start its own.',
    });
  }
}

/**
 * Every KAFKA_BROKERS entry answers a metadata request, asked with the security settings the
 * demo, chaos and the exporter use (KAFKA_SECURITY_PROTOCOL, KAFKA_TLS_*, KAFKA_SASL_*): a
 * SASL_SSL-only listener answers no plaintext client. Bad settings are a configuration error at
 * once, not a broker that "does not answer".
 */
export async function untilKafkaAnswers(brokers: readonly string[], timeoutMs = ANSWER_TIMEOUT_MS, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const security = kafkaClientSecurity(kafkaSecurityFromEnv(env), { field: (f) => KAFKA_SECURITY_VARIABLES[f] });
  return untilAnswering('the external Kafka', brokers.map((b) => ({ name: `KAFKA_BROKERS entry ${b}`, probe: () => kafkaAnswers(b, security) })), timeoutMs);
}

/** AMQP_URL completes an AMQP handshake and RABBITMQ_MANAGEMENT_URL, when set, answers HTTP; both are reported when both fail. */
export function untilRabbitMqAnswers(amqpUrl: string, managementUrl: string | undefined, timeoutMs = ANSWER_TIMEOUT_MS): Promise<void> {
  return untilAnswering(
    'the external RabbitMQ',
    [
      { name: `AMQP_URL ${shown(amqpUrl)}`, probe: () => amqpAnswers(amqpUrl) },
      ...(managementUrl ? [{ name: `RABBITMQ_MANAGEMENT_URL ${shown(managementUrl)}`, probe: () => httpAnswers(managementUrl) }] : []),
    ],
    timeoutMs,
  );
}

/** PROMETHEUS_URL answers HTTP. */
export function untilPrometheusAnswers(url: string, timeoutMs = ANSWER_TIMEOUT_MS): Promise<void> {
  return untilAnswering('the external Prometheus', [{ name: `PROMETHEUS_URL ${shown(url)}`, probe: () => httpAnswers(url) }], timeoutMs);
}

/**
 * JAEGER_QUERY_URL serves Jaeger's query API (`/api/services` answers 2xx with JSON), and
 * OTEL_EXPORTER_OTLP_ENDPOINT answers HTTP (any status: an OTLP receiver answers 405 or 404 to a
 * GET); both are reported when both fail.
 */
export function untilJaegerAnswers(queryUrl: string, otlpEndpoint: string, timeoutMs = ANSWER_TIMEOUT_MS): Promise<void> {
  return untilAnswering(
    'the external Jaeger',
    [
      {
        name: `JAEGER_QUERY_URL ${shown(queryUrl)}`,
        probe: async () => {
          const body = await requestText(`${queryUrl}/api/services`, { timeoutMs: 3000 });
          try {
            JSON.parse(body);
          } catch {
            throw new BrokerUnreachableError(`${queryUrl}/api/services answered something that is not JSON, so it is not Jaeger's query API: ${body.slice(0, 120)}`);
          }
          return true;
        },
      },
      { name: `OTEL_EXPORTER_OTLP_ENDPOINT ${shown(otlpEndpoint)}`, probe: () => httpAnswers(otlpEndpoint) },
    ],
    timeoutMs,
  );
}

/** A node we did not start: there is nothing to signal, so every fault says so plainly. */
function externalNode(name: string): NodeHandle {
  const no = (what: string) => async (): Promise<void> => {
    throw new UnsupportedError(`${what} is not available for ${name}: it is an external service (not started by eda-harness).`, {
      hint: 'Unset KAFKA_BROKERS / AMQP_URL / PROMETHEUS_URL / JAEGER_QUERY_URL to let eda-harness start its own services, which support faults.',
    });
  };
  return { name, pid: undefined, running: true, stop: no('stop()'), start: no('start()'), kill: no('kill()'), pause: no('pause()'), resume: no('resume()'), restart: no('restart()') };
}

export function externalKafka(brokers: string[]): StartedKafka {
  const nodes: KafkaNodeHandle[] = brokers.map((address, i) => ({ ...externalNode(`kafka-${i + 1}`), nodeId: i + 1, address, proxy: undefined }));
  return {
    provider: 'external',
    version: 'external',
    brokers,
    nodes,
    node(nodeId) {
      const n = nodes.find((x) => x.nodeId === nodeId);
      if (!n) throw new UnsupportedError(`external Kafka has no node ${nodeId} known to eda-harness`);
      return n;
    },
    async leaderOf() {
      throw new UnsupportedError('leaderOf() needs broker ids that map to fault handles: not available for an external Kafka');
    },
  };
}

export function externalRabbitMq(amqpUrl: string, managementUrl: string | undefined): StartedRabbitMq {
  return { provider: 'external', amqpUrl, managementUrl, metricsUrl: undefined, node: externalNode('rabbitmq'), proxy: undefined };
}

export function externalPrometheus(url: string): StartedPrometheus {
  return {
    provider: 'external',
    url,
    node: externalNode('prometheus'),
    configFile: undefined,
    async reload() {
      try {
        await requestText(`${url}/-/reload`, { method: 'POST' });
      } catch (err) {
        if (!(err instanceof HttpRequestError) || err.status === undefined) throw err;
        throw new UnsupportedError(`external Prometheus at ${url} refused a reload (${err.status}); start it with --web.enable-lifecycle`, { cause: err });
      }
    },
  };
}

export function externalJaeger(queryUrl: string, otlpEndpoint: string): StartedJaeger {
  return { provider: 'external', version: undefined, queryUrl, otlpHttpUrl: otlpEndpoint, otlpGrpcAddress: undefined, node: undefined };
}
