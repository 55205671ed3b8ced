import { main, usage } from '../../../cli/main';
import { parseUpFlags } from '../../../cli/env-command';
import { captureConsole } from '../../support/console-capture';

const capture = captureConsole;

describe('cli', () => {
  it('lists its commands in --help', async () => {
    const c = capture();
    await expect(main(['--help'])).resolves.toBe(0);
    c.restore();
    expect(c.out.join('\n')).toContain('env');
    expect(usage()).toMatch(/Usage: eda-harness <command>/);
  });

  it('exits 2 with usage on an unknown command', async () => {
    const c = capture();
    await expect(main(['bogus'])).resolves.toBe(2);
    c.restore();
    expect(c.err.join('\n')).toContain('unknown command "bogus"');
  });

  it('exits 2 with the command help on an unknown option (parseArgs errors recognised by code)', async () => {
    const c = capture();
    await expect(main(['exporter', '--no-such-flag'])).resolves.toBe(2);
    c.restore();
    expect(c.err.join('\n')).toMatch(/Unknown option '--no-such-flag'[\s\S]*Usage: eda-harness exporter/);
  });

  it('shows env help with examples', async () => {
    const c = capture();
    await expect(main(['env', '--help'])).resolves.toBe(0);
    c.restore();
    expect(c.out.join('\n')).toContain('eda-harness env up --kafka 3 --rabbitmq --toxiproxy');
  });

  it('rejects a bad --kafka value with exit code 2 and says why', async () => {
    const c = capture();
    await expect(main(['env', 'up', '--kafka', 'lots'])).resolves.toBe(2);
    c.restore();
    expect(c.err.join('\n')).toMatch(/--kafka must be a node count/);
  });

  it('parses env up flags with sensible defaults', () => {
    expect(parseUpFlags([])).toMatchObject({ kafka: 1, rabbitmq: true, toxiproxy: true, prometheus: false });
    expect(parseUpFlags(['--kafka', '3', '--rabbitmq', '--toxiproxy'])).toMatchObject({ kafka: 3, rabbitmq: true, toxiproxy: true });
    expect(parseUpFlags(['--kafka', '3'])).toMatchObject({ kafka: 3, rabbitmq: false });
    expect(parseUpFlags(['--rabbitmq', '--no-toxiproxy'])).toMatchObject({ kafka: 0, rabbitmq: true, toxiproxy: false });
    // The RabbitMQ options ask for RabbitMQ (and, alone, for nothing else).
    expect(parseUpFlags(['--rabbitmq-management-tls'])).toMatchObject({ kafka: 0, rabbitmq: true, rabbitmqManagementTls: true, rabbitmqStatistics: true });
    expect(parseUpFlags(['--kafka', '1', '--rabbitmq-no-statistics'])).toMatchObject({ kafka: 1, rabbitmq: true, rabbitmqManagementTls: false, rabbitmqStatistics: false });
    expect(parseUpFlags([])).toMatchObject({ rabbitmqManagementTls: false, rabbitmqStatistics: true });
  });
});
