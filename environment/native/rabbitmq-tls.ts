import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ProcessError, PrerequisiteError, ensureDir, errorMessage } from '@eda-harness/core';
import { which } from '../install';

/**
 * The certificates of a RabbitMQ whose management API is served over https: a CA made at start
 * and a server certificate for localhost and 127.0.0.1 signed by it, as PEM files (what RabbitMQ
 * and Node read). Made with openssl, which takes milliseconds where the JDK's keytool (the secured
 * Kafka's tool, which RabbitMQ has no use for) takes a JVM start per step and cannot write a PEM
 * private key. Everything lives in the run directory and dies with it.
 */
export interface RabbitTlsFiles {
  readonly dir: string;
  /** The CA certificate: what clients trust (the exporter's managementCaFile). */
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

export function findOpenssl(): string {
  const found = which('openssl');
  if (!found) {
    throw new PrerequisiteError('RabbitMQ with its management API over TLS needs openssl to make the certificates, and none is on PATH.', {
      hint: 'Install it (apt-get install openssl) or start RabbitMQ without managementTls.',
    });
  }
  return found;
}

function run(openssl: string, args: readonly string[], what: string, cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(openssl, [...args], { cwd, timeout: 30_000 }, (err, _stdout, stderr) => {
      if (!err) return resolve();
      reject(new ProcessError(`openssl failed ${what}: ${String(stderr).trim() || errorMessage(err)}`, { cause: err }));
    });
  });
}

/** Makes the CA and the server certificate (EC P-256, 30 days) in `runDir`/rabbitmq-tls. */
export async function makeRabbitTlsFiles(runDir: string): Promise<RabbitTlsFiles> {
  const openssl = findOpenssl();
  const dir = ensureDir(join(runDir, 'rabbitmq-tls'), { mode: 0o700, what: "RabbitMQ's TLS folder" });
  const files = { dir, caFile: join(dir, 'ca.pem'), certFile: join(dir, 'server.pem'), keyFile: join(dir, 'server.key') };
  const caKey = join(dir, 'ca.key');
  const csr = join(dir, 'server.csr');
  const ext = join(dir, 'server.ext');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await Promise.all([
    run(openssl, ['req', '-x509', ...ec, '-keyout', caKey, '-out', files.caFile, '-days', '30', '-subj', '/CN=eda-harness test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], 'making the test CA', dir),
    run(openssl, ['req', ...ec, '-keyout', files.keyFile, '-out', csr, '-subj', '/CN=localhost'], "making RabbitMQ's key pair", dir),
  ]);
  writeFileSync(ext, ['subjectAltName=DNS:localhost,IP:127.0.0.1', 'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=serverAuth', ''].join('\n'));
  await run(openssl, ['x509', '-req', '-in', csr, '-CA', files.caFile, '-CAkey', caKey, '-CAcreateserial', '-days', '30', '-extfile', ext, '-out', files.certFile], "signing RabbitMQ's certificate", dir);
  return files;
}

/** rabbitmq.conf lines of the management listener: https on `port` with `tls`, else plain http. */
export function managementListenerConfig(port: number, tls: RabbitTlsFiles | undefined): string[] {
  if (!tls) return ['management.tcp.ip = 127.0.0.1', `management.tcp.port = ${port}`];
  return [
    'management.ssl.ip = 127.0.0.1',
    `management.ssl.port = ${port}`,
    `management.ssl.cacertfile = ${tls.caFile}`,
    `management.ssl.certfile = ${tls.certFile}`,
    `management.ssl.keyfile = ${tls.keyFile}`,
  ];
}
