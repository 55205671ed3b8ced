import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly path: string | undefined;
}

export interface RecordingHttpServer {
  /** http://127.0.0.1:<port>, no trailing slash. */
  readonly url: string;
  /** Every request received, in order. */
  readonly got: RecordedRequest[];
  close(): Promise<void>;
}

/** A loopback HTTP server that records every request and answers each with `status` (a stand-in OTLP endpoint). */
export async function recordingHttpServer(status: number, headers: Record<string, string> = {}): Promise<RecordingHttpServer> {
  const got: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks), path: req.url });
      res.writeHead(status, headers).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, got, close: () => new Promise((r) => server.close(() => r())) };
}
