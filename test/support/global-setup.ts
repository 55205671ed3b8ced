import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { provisionAll } from '../../environment/provision';

/**
 * Integration runs: install whatever the native provider needs once, up front, with progress
 * (the first run on a fresh machine pays for apt, Maven and go install here, not inside a test's
 * timeout), and start a pid ledger so teardown can prove that no process outlived the run.
 */
export default async function globalSetup(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'eda-harness-test-'));
  process.env['EDA_HARNESS_PID_LEDGER'] = join(dir, 'pids.tsv');
  process.env['KAFKAJS_NO_PARTITIONER_WARNING'] = '1';
  const external = ['KAFKA_BROKERS', 'AMQP_URL', 'PROMETHEUS_URL'].filter((v) => process.env[v]);
  if (external.length < 3 && process.env['EDA_HARNESS_PROVIDER'] !== 'external') await provisionAll();
}
