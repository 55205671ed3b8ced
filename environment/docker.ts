import { request } from 'node:http';
import { existsSync } from 'node:fs';
import { ConfigError } from '@eda-harness/core';

/**
 * True when a Docker engine answers `GET /_ping` on DOCKER_HOST (unix or tcp) or the default
 * socket. A `docker` client binary alone does not count: that is exactly the situation on
 * machines with no engine.
 */
export async function dockerAnswers(timeoutMs = 1500): Promise<boolean> {
  const host = process.env['DOCKER_HOST'];
  let target: { socketPath: string } | { host: string; port: number };
  if (host?.startsWith('tcp://')) {
    let u: URL | undefined;
    try {
      u = new URL(host.replace(/^tcp:/, 'http:'));
    } catch {
      /* reported below */
    }
    if (!u || u.hostname === '') throw new ConfigError(`DOCKER_HOST "${host}" is not a tcp://host:port address`, { hint: 'Fix DOCKER_HOST or unset it (the default is /var/run/docker.sock).' });
    target = { host: u.hostname, port: Number(u.port || 2375) };
  } else {
    const socketPath = host?.startsWith('unix://') ? host.slice('unix://'.length) : '/var/run/docker.sock';
    if (!existsSync(socketPath)) return false;
    target = { socketPath };
  }
  return new Promise<boolean>((resolve) => {
    const req = request({ ...target, path: '/_ping', method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.once('error', () => resolve(false));
    req.end();
  });
}
