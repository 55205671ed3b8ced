#!/usr/bin/env node
// `npm test`'s first step: starts `eda-harness env provision` in the background and returns at
// once, so a fresh machine's apt installs, Maven download and Go builds (Jaeger's alone is minutes)
// overlap lint, type-check, build and the unit tests instead of following them. The integration
// project's global set-up calls the same provisioning, which waits for this one (a lock per cache)
// and then finds everything installed; on a warm machine this ends within a second. Output goes
// to .cache/provision.log. The background run watches the npm run that started it and stops when
// that run ends (a lint error, Ctrl-C), interrupting its install step, so nothing builds on.
// Skipped when every service is external, or with EDA_HARNESS_PROVISION_EARLY=0.
import { spawn } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const external = ['KAFKA_BROKERS', 'AMQP_URL', 'PROMETHEUS_URL'].filter((v) => process.env[v]);
if (process.env.EDA_HARNESS_PROVISION_EARLY === '0' || process.env.EDA_HARNESS_PROVIDER === 'external' || external.length === 3) process.exit(0);

const cli = join(root, 'cli', 'bin', 'eda-harness.js');
mkdirSync(join(root, '.cache'), { recursive: true });
const log = join(root, '.cache', 'provision.log');
const out = openSync(log, 'a');
// process.ppid: the shell npm runs the test script in, alive until the whole script ends.
const child = spawn(process.execPath, [cli, 'env', 'provision'], {
  cwd: root,
  detached: true,
  stdio: ['ignore', out, out],
  env: { ...process.env, EDA_HARNESS_PROVISION_WATCH_PID: String(process.ppid) },
});
child.on('error', (err) => console.error(`could not start the background provisioning: ${err.message} (the integration tests provision by themselves)`));
child.unref();
console.log(`== provisioning in the background (pid ${child.pid}, log: ${log}); the integration tests wait for it`);
