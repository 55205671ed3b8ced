import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { isAlive } from '../../../environment/managed-process';
import type { EnvironmentDescription } from '../../../environment/index';

const run = promisify(execFile);
const cli = join(__dirname, '..', '..', '..', 'cli', 'bin', 'eda-harness.js');

/**
 * `env up --kafka-security sasl_ssl` as an operator uses it: what it prints is enough to connect
 * (the SASL_SSL addresses, the CA file, the user and its password file), and `env down` ends it.
 */
it('`env up --kafka-security sasl_ssl` prints what a client needs, a client connects with it, and `env down` ends it', async () => {
  const runs = join(require('node:os').tmpdir(), `eda-cli-secured-${process.pid}`);
  const cliEnv = { ...process.env, EDA_HARNESS_RUNS: runs, EDA_HARNESS_QUIET: '1' };
  try {
    const up = await run('node', [cli, 'env', 'up', '--kafka-security', 'sasl_ssl', '--json'], { env: cliEnv, timeout: 180_000 });
    const described = JSON.parse(up.stdout) as EnvironmentDescription;
    const security = described.kafka?.security;
    if (!security) throw new Error(`env up described no secured listener: ${up.stdout}`);
    expect(described.processes.map((p) => p.name).sort()).toEqual(['kafka-1', 'toxiproxy']);

    const kafka = new Kafka({
      clientId: 'cli-secured',
      brokers: [...security.brokers],
      ssl: { ca: [readFileSync(security.caFile, 'utf8')] },
      sasl: { mechanism: security.mechanism, username: security.username, password: readFileSync(security.passwordFile, 'utf8') },
      logLevel: logLevel.NOTHING,
      retry: { retries: 2 },
    });
    const admin = kafka.admin();
    await admin.connect();
    await expect(admin.describeCluster()).resolves.toMatchObject({ brokers: [{ nodeId: 1 }] });
    await admin.disconnect();

    const status = await run('node', [cli, 'env', 'status'], { env: cliEnv });
    expect(status.stdout).toContain(`SASL_SSL listener (SCRAM-SHA-512 or SCRAM-SHA-256): ${security.brokers.join(',')}`);
    expect(status.stdout).toContain(`CA certificate (PEM): ${security.caFile}`);
    expect(status.stdout).toContain(`user eda-harness, password in ${security.passwordFile}`);
    expect(status.stdout).not.toContain(readFileSync(security.passwordFile, 'utf8'));

    const down = await run('node', [cli, 'env', 'down'], { env: cliEnv });
    expect(down.stdout).toMatch(/Stopped .*kafka-1/);
    for (const p of described.processes) expect(isAlive(p.pid, p.startTicks)).toBe(false);
    // The certificates and passwords went with the run directory.
    expect(existsSync(security.caFile)).toBe(false);
    expect(existsSync(described.runDir)).toBe(false);
  } finally {
    await run('node', [cli, 'env', 'down'], { env: cliEnv }).catch(() => undefined);
    rmSync(runs, { recursive: true, force: true });
  }
}, 240_000);
