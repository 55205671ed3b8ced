import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, EdaHarnessError, errorMessage } from '@eda-harness/core';
import type { Exporter } from './exporter';

export interface MetricsServer {
  /** Base URL, e.g. http://127.0.0.1:9464 */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface MetricsServerOptions {
  readonly exporter: Exporter;
  readonly port?: number;
  readonly host?: string;
  /** How the user set the port and host (`--port`, `EDA_EXPORTER_HOST` …), named when listening fails. */
  readonly settingNames?: { readonly port?: string; readonly host?: string };
}

/**
 * The metrics port could not be opened: in use, not permitted, or another system error
 * (`systemCode`). An address that is not this machine's, or a host name that does not resolve, is
 * a {@link ConfigError} instead: the configuration is wrong, not the machine's state.
 */
export class MetricsServerError extends EdaHarnessError {
  readonly systemCode: string | undefined;
  constructor(message: string, options: { cause?: unknown; hint?: string; retriable?: boolean; systemCode?: string | undefined }) {
    super('PROCESS_FAILED', message, options);
    this.systemCode = options.systemCode;
  }
}

/** The error of a failed listen(), as one line that says what to change. */
export function listenError(err: unknown, host: string, port: number, names: MetricsServerOptions['settingNames'] = {}): EdaHarnessError {
  const code = (err as { code?: unknown } | null)?.code;
  const systemCode = typeof code === 'string' ? code : undefined;
  const where = `cannot listen on ${host.includes(':') ? `[${host}]` : host}:${port}`;
  const from = (name: string | undefined): string => (name === undefined ? '' : ` (${name})`);
  switch (systemCode) {
    case 'EADDRINUSE':
      return new MetricsServerError(`${where}${from(names.port)}: the port is already in use`, {
        cause: err,
        systemCode,
        retriable: true,
        hint: 'Stop what listens there, or choose another port (0 picks a free one).',
      });
    case 'EACCES':
      return new MetricsServerError(`${where}${from(names.port)}: permission denied`, { cause: err, systemCode, hint: 'Ports below 1024 need privileges: choose one above 1023.' });
    case 'EADDRNOTAVAIL':
      return new ConfigError(`${where}${from(names.host)}: ${host} is not an address of this machine`, {
        cause: err,
        hint: 'Listen on 0.0.0.0 (every interface, the default), 127.0.0.1, or an address of one of its interfaces.',
      });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAI_NONAME':
      return new ConfigError(`${where}${from(names.host)}: the host name ${host} does not resolve (${systemCode})`, { cause: err, hint: 'Give an IP address or a name of this machine.' });
    default:
      return new MetricsServerError(`${where}: ${errorMessage(err)}`, { cause: err, systemCode });
  }
}

/**
 * Serves `/metrics` (the registry, rendered from the cached collections: a scrape never waits
 * for a broker, and the exporter's metrics are written once per collection, see Exporter.metrics) and `/healthz` (200 while the process runs, with each target's state as JSON, so
 * a broker outage does not get the exporter restarted by its supervisor).
 */
export async function serveMetrics(options: MetricsServerOptions): Promise<MetricsServer> {
  const { exporter } = options;
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      // The exporter's metrics are written once per collection, not on every scrape.
      exporter.metrics().then(
        (body) => res.writeHead(200, { 'content-type': exporter.registry.contentType }).end(body),
        (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err)),
      );
      return;
    }
    if (path === '/healthz') {
      const targets = exporter.health().map((h) => ({
        target: h.target,
        ...(h.cluster === undefined ? {} : { cluster: h.cluster }),
        up: h.up,
        lastSuccess: h.lastSuccessMs === undefined ? null : new Date(h.lastSuccessMs).toISOString(),
        errors: h.errors,
      }));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok', targets }));
      return;
    }
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('eda-harness exporter: /metrics, /healthz\n');
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  const listenHost = options.host ?? '0.0.0.0';
  const listenPort = options.port ?? 9464;
  await new Promise<void>((resolve, reject) => {
    const failed = (err: unknown): void => reject(listenError(err, listenHost, listenPort, options.settingNames));
    server.once('error', failed);
    try {
      server.listen(listenPort, listenHost, () => {
        server.off('error', failed);
        resolve();
      });
    } catch (err) {
      failed(err); // a port out of range is thrown, not emitted
    }
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host === undefined || options.host === '0.0.0.0' ? '127.0.0.1' : options.host;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
