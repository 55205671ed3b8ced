import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requestTextWithCa } from '../../../exporter/rabbitmq/https-text';
import { makeRabbitTlsFiles, managementListenerConfig } from '../../../environment/native/rabbitmq-tls';

/** The native RabbitMQ's TLS files: a CA and a server certificate for 127.0.0.1 and localhost that Node accepts. */

let runDir: string;
afterAll(() => rmSync(runDir, { recursive: true, force: true }));

it('makes a CA and a server certificate it signed, for localhost and 127.0.0.1, in a private folder', async () => {
  runDir = mkdtempSync(join(tmpdir(), 'eda-rabbit-tls-'));
  const files = await makeRabbitTlsFiles(runDir);
  expect(statSync(files.dir).mode & 0o777).toBe(0o700);
  expect(execFileSync('openssl', ['verify', '-CAfile', files.caFile, files.certFile]).toString()).toContain(': OK');
  const text = execFileSync('openssl', ['x509', '-in', files.certFile, '-noout', '-ext', 'subjectAltName,extendedKeyUsage']).toString();
  expect(text).toContain('DNS:localhost');
  expect(text).toContain('IP Address:127.0.0.1');
  expect(text).toContain('TLS Web Server Authentication');

  // A TLS server with them is trusted by Node given the CA, as the exporter's managementCaFile.
  const server = createServer({ key: readFileSync(files.keyFile), cert: readFileSync(files.certFile) }, (_req, res) => void res.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const { port } = server.address() as AddressInfo;
    await expect(requestTextWithCa(`https://127.0.0.1:${port}/`, { caFile: files.caFile })).resolves.toBe('ok');
    await expect(requestTextWithCa(`https://127.0.0.1:${port}/`, { caFile: files.certFile })).rejects.toThrow(/certificate|verify/i);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}, 30_000);

it('configures the management listener for https with the files, or plain http without them', () => {
  expect(managementListenerConfig(15672, undefined)).toEqual(['management.tcp.ip = 127.0.0.1', 'management.tcp.port = 15672']);
  const tls = { dir: '/r', caFile: '/r/ca.pem', certFile: '/r/server.pem', keyFile: '/r/server.key' };
  expect(managementListenerConfig(15671, tls)).toEqual([
    'management.ssl.ip = 127.0.0.1',
    'management.ssl.port = 15671',
    'management.ssl.cacertfile = /r/ca.pem',
    'management.ssl.certfile = /r/server.pem',
    'management.ssl.keyfile = /r/server.key',
  ]);
});
