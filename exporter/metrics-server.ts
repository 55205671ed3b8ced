import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
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
}

/**
 * Serves `/metrics` (the registry, rendered from the cached collections: a scrape never waits
 * for a broker) and `/healthz` (200 while the process runs, with each target's state as JSON, so
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
      exporter.registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': exporter.registry.contentType }).end(body),
        (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err)),
      );
      return;
    }
    if (path === '/healthz') {
      const targets = exporter.health().map((h) => ({
        target: h.target,
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
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 9464, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
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
