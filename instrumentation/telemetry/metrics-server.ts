import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry, RegistryContentType } from 'prom-client';

/** Where /metrics listens, resolved from the options, the environment and the defaults. */
export interface MetricsServerOptions {
  readonly host: string;
  /** 0 = any free port. */
  readonly port: number;
  readonly path: string;
}

export interface MetricsServer {
  /** http://host:port/path, with a wildcard host replaced by loopback so the URL can be fetched. */
  readonly url: string;
  readonly port: number;
  /** Closes the server and any scrape connection still open. */
  close(): Promise<void>;
}

/** What a client can connect to when the server listens on `host`. */
function reachableHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Serves `registry` on GET `path`. The server does not hold the event loop open: a library must
 * not keep alive a process that would otherwise exit, and a service is kept alive by its own
 * sockets (brokers, HTTP) for as long as it works. A scrape in progress still completes.
 */
export async function serveMetrics(registry: Registry<RegistryContentType>, options: MetricsServerOptions): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== options.path) {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(body),
      (err: unknown) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(String(err)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.unref();
  const port = (server.address() as AddressInfo).port;
  let closed: Promise<void> | undefined;
  return {
    url: `http://${reachableHost(options.host)}:${port}${options.path}`,
    port,
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
