import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Registry } from 'prom-client';
import { alertFiles } from '@eda-harness/alerts';
import { resolveAlertsConfig } from '@eda-harness/alerts';
import { errorMessage, requestJson, writeGeneratedFiles } from '@eda-harness/core';
import type { ProgressSink } from '@eda-harness/core';
import { allocatePorts, Environment, releasePorts, type StartedEnvironment } from '@eda-harness/environment';
import { createExporter, silentLogger, type Exporter } from '@eda-harness/exporter';
import type { ExporterConfig, KafkaTargetConfig } from '@eda-harness/exporter';
import type { KafkaSecuritySettings } from '@eda-harness/core';
import { serveMetrics, type MetricsServer } from '@eda-harness/exporter';
import type { KafkaConnectionSettings } from './kafka-connection';
import { exporterLagQuery, exporterLagSamples, rangeStepSeconds, type RangeQueryAnswer } from './exporter-lag';
import type { AlertObservation, ChaosSystem, ExporterLagSample } from './types';
import { waitUpTo } from './wait-up-to';

/**
 * "Alerts fire" needs the same chain as production: the workload's own metrics and the
 * eda-harness exporter scraped by a real Prometheus that evaluates the shipped alert pack. This
 * starts that chain for one scenario (Prometheus from the environment layer, scraping every
 * second, rules evaluated every second) and records every alert state change from
 * `/api/v1/alerts`, so the alert invariants are pure functions of what happened.
 */

export interface AlertPackOptions {
  /**
   * Overrides of the shipped pack's configuration, in the shape `eda-harness alerts build
   * --config` reads (`thresholds`, `for`, …). Scenarios lower thresholds so a fault of seconds
   * crosses them; the rules are otherwise exactly the shipped ones.
   */
  readonly config?: Readonly<Record<string, unknown>>;
  /** After the traffic drained: how long to wait for active alerts to resolve (default 60 000 ms). */
  readonly settleMs?: number;
}

export interface AlertWatch {
  observations(): readonly AlertObservation[];
  /**
   * The exporter's consumer lag for `destination` from `fromMs` to now, as Prometheus recorded it
   * (one range query, 1 s step, leaving out the times the exporter's figures were stale; see
   * exporter-lag.ts). Call before `stop()`. Throws when Prometheus
   * does not answer with a matrix, saying what came back.
   */
  exporterLag(destination: string, fromMs: number): Promise<ExporterLagSample[]>;
  /** Resolves once no alert is pending or firing, or after `timeoutMs`. */
  settle(timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

interface PromAlert {
  readonly labels: Record<string, string>;
  readonly state: string;
}

/** The exporter collects every second; a lag figure from a collection older than this is a stale one (exporter-lag.ts). */
const LAG_FRESH_WITHIN_S = 5;

const keyOf = (labels: Record<string, string>): string =>
  Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');

export async function startAlertWatch(deps: {
  readonly env: StartedEnvironment;
  readonly system: ChaosSystem;
  readonly registry: Registry;
  readonly options: AlertPackOptions;
  readonly progress: ProgressSink;
  /** The listener and TLS / SASL settings the workload's clients use (the exporter uses the same). */
  readonly kafka?: KafkaConnectionSettings;
}): Promise<AlertWatch> {
  const { env, system, registry, options, progress, kafka } = deps;
  const config = resolveAlertsConfig({ evaluationInterval: '1s', ...options.config }, 'chaos alert pack');
  const rulesDir = mkdtempSync(join(tmpdir(), 'eda-chaos-rules-'));
  const closers: (() => Promise<void>)[] = [async () => rmSync(rulesDir, { recursive: true, force: true })];
  const stopAll = async (): Promise<void> => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  };
  try {
    const ruleFiles = writeGeneratedFiles(rulesDir, alertFiles(config)).filter((f) => f.includes('/alerts/prometheus/'));
    const [appPort, exporterPort] = await allocatePorts(2);
    closers.push(async () => releasePorts([appPort!, exporterPort!]));

    const app: Server = createServer((_req, res) => {
      registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
        (err: unknown) => res.writeHead(500).end(errorMessage(err)),
      );
    });
    await new Promise<void>((resolve) => app.listen(appPort, '127.0.0.1', resolve));
    closers.push(() => new Promise<void>((resolve) => app.close(() => resolve())));

    const exporterConfig: ExporterConfig =
      system === 'kafka'
        ? { kafka: { ...exporterSecurity(kafka?.security), brokers: kafka?.brokers ?? env.getKafkaBrokers() }, intervalSeconds: 1 }
        : { rabbitmq: { managementUrl: env.getRabbitMqManagementUrl(), managementUser: 'guest', managementPassword: 'guest', amqpUrl: env.getAmqpUrl() }, intervalSeconds: 1 };
    const exporter: Exporter = createExporter({ config: exporterConfig, logger: silentLogger });
    exporter.start();
    closers.push(() => exporter.stop());
    const server: MetricsServer = await serveMetrics({ exporter, port: exporterPort!, host: '127.0.0.1' });
    closers.push(() => server.close());

    progress('alert pack: starting Prometheus with the shipped rules');
    const prom = await new Environment()
      .withPrometheus({
        scrapeTargets: { 'chaos-workload': [`127.0.0.1:${appPort}`], [config.exporterJob]: [`127.0.0.1:${exporterPort}`] },
        ruleFiles,
        scrapeIntervalSeconds: 1,
        evaluationIntervalSeconds: 1,
      })
      .start();
    closers.push(() => prom.stop());
    const alertsUrl = `${prom.getPrometheusUrl()}/api/v1/alerts`;

    const seen: AlertObservation[] = [];
    let current = new Map<string, AlertObservation>();
    let failures = 0;
    const poll = async (): Promise<void> => {
      try {
        const body = await requestJson<{ status: string; data?: { alerts?: PromAlert[] } }>(alertsUrl, { timeoutMs: 3000 });
        if (body.status !== 'success') throw new Error(`status ${body.status}`);
        const atMs = Date.now();
        const next = new Map<string, AlertObservation>();
        for (const a of body.data?.alerts ?? []) {
          const state = a.state === 'firing' ? 'firing' : 'pending';
          const { alertname = '', ...labels } = a.labels;
          const o: AlertObservation = { atMs, alertname, labels, state };
          const key = `${alertname}{${keyOf(labels)}}`;
          next.set(key, o);
          if (current.get(key)?.state !== state) seen.push(o);
        }
        for (const [key, o] of current) if (!next.has(key)) seen.push({ ...o, atMs, state: 'inactive' });
        current = next;
      } catch (err) {
        // Prometheus briefly unreachable: the next poll catches up on states; say so once in a while.
        if (failures++ % 10 === 0) progress(`alert pack: reading ${alertsUrl} failed: ${errorMessage(err)}`);
      }
    };
    let polling = true;
    const loop = (async () => {
      while (polling) {
        await poll();
        await delay(1000);
      }
    })();
    closers.push(async () => {
      polling = false;
      await loop;
    });

    return {
      observations: () => seen,
      async exporterLag(destination, fromMs) {
        const toMs = Date.now();
        const params = new URLSearchParams({ query: exporterLagQuery(system, destination, LAG_FRESH_WITHIN_S), start: (fromMs / 1000).toFixed(3), end: (toMs / 1000).toFixed(3), step: `${rangeStepSeconds(fromMs, toMs)}s` });
        const answer = await requestJson<RangeQueryAnswer>(`${prom.getPrometheusUrl()}/api/v1/query_range?${params.toString()}`, { timeoutMs: 10_000 });
        return exporterLagSamples(answer, fromMs);
      },
      async settle(timeoutMs) {
        if (current.size > 0) progress(`alert pack: waiting up to ${Math.round(timeoutMs / 1000)} s for ${current.size} active alert(s) to resolve`);
        await waitUpTo(() => current.size === 0, { description: 'active alerts to resolve', timeoutMs, intervalMs: 500 });
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/**
 * The exporter's TLS / SASL settings from the workload's: the same fields, already checked (the
 * protocol and mechanism are among the known ones, which the exporter's narrower types name).
 */
function exporterSecurity(security: KafkaSecuritySettings | undefined): Pick<KafkaTargetConfig, 'securityProtocol' | 'tls' | 'sasl'> {
  return (security ?? {}) as Pick<KafkaTargetConfig, 'securityProtocol' | 'tls' | 'sasl'>;
}
