import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alertFiles } from '../../../alerts/alert-files';
import { alertPack } from '../../../alerts/alert-rules';
import { DEFAULT_ALERTS_CONFIG, resolveAlertsConfig } from '../../../alerts/alerts-config';
import { runMain as cli } from '../../support/run-main';

/** Runs the CLI, capturing what it prints. */
describe('eda-harness alerts', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'eda-alerts-cli-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('build --config writes exactly the files the configuration generates', async () => {
    const partial = { thresholds: { dlqRatio: 0.05 }, grafana: { datasourceUid: 'my-prom' } };
    writeFileSync(join(dir, 'alerts.json'), JSON.stringify(partial));
    const res = await cli(['alerts', 'build', '--config', join(dir, 'alerts.json'), '--out', dir]);
    expect(res.code).toBe(0);
    const expected = alertFiles(resolveAlertsConfig(partial));
    expect(res.out.split('\n').sort()).toEqual([...expected.keys()].map((k) => join(dir, k)).sort());
    for (const [rel, content] of expected) expect(readFileSync(join(dir, rel), 'utf8')).toBe(content);
    expect(readFileSync(join(dir, 'alerts/grafana/dead-letters.yml'), 'utf8')).toContain('datasourceUid: my-prom');
  });

  it('a config with an unknown key is a usage error (exit 2) naming the key', async () => {
    writeFileSync(join(dir, 'alerts.json'), JSON.stringify({ thresholds: { lagSeconds: 3 } }));
    const res = await cli(['alerts', 'build', '--config', join(dir, 'alerts.json'), '--out', dir]);
    expect(res.code).toBe(2);
    expect(res.err).toContain('lagSeconds');
  });

  it('list prints every rule; --defaults prints the default configuration', async () => {
    const list = await cli(['alerts', 'list']);
    expect(list.code).toBe(0);
    const rules = alertPack(DEFAULT_ALERTS_CONFIG).flatMap((g) => [...g.alertRules, ...g.recordingRules]);
    expect(list.out.split('\n')).toHaveLength(rules.length);
    const defaults = await cli(['alerts', '--defaults']);
    expect(JSON.parse(defaults.out)).toEqual(DEFAULT_ALERTS_CONFIG);
  });

  it('an unknown subcommand is a usage error', async () => {
    expect((await cli(['alerts', 'deploy'])).code).toBe(2);
  });

  it('build --out checks the folder before writing: /proc paths, an empty value and a file in the way are exit 2 naming --out', async () => {
    const proc = await cli(['alerts', 'build', '--out', '/proc/forbidden']);
    expect(proc).toMatchObject({ code: 2, out: '' });
    expect(proc.err).toContain('Cannot create the --out folder /proc/forbidden: mkdir /proc/forbidden failed');
    expect(await cli(['alerts', 'build', '--out', ''])).toMatchObject({ code: 2, err: expect.stringContaining('--out must name a folder, got ""') });
    writeFileSync(join(dir, 'file'), '');
    expect(await cli(['alerts', 'build', '--out', join(dir, 'file')])).toMatchObject({ code: 2, err: expect.stringContaining('for the --out folder') });
  });

  it('build writes nothing when one of its folders cannot be written (no half-written rule set)', async () => {
    mkdirSync(join(dir, 'alerts'));
    writeFileSync(join(dir, 'alerts', 'grafana'), 'a file where a folder goes');
    const res = await cli(['alerts', 'build', '--out', dir]);
    expect(res.code).toBe(2);
    expect(res.err).toContain(join(dir, 'alerts', 'grafana'));
    expect(existsSync(join(dir, 'alerts', 'prometheus', 'kafka-consumers.yml'))).toBe(false);
  });

  it('a config that is not JSON is exit 2 with the parser message; a reserved label is exit 2 naming it', async () => {
    writeFileSync(join(dir, 'bad.json'), '{"labels": {team: 1}}');
    const bad = await cli(['alerts', 'build', '--config', join(dir, 'bad.json'), '--out', dir]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/is not valid JSON: .*property name.*\(line 1, column 13\)/);
    writeFileSync(join(dir, 'alertname.json'), '{"labels": {"alertname": "Renamed"}}');
    const renamed = await cli(['alerts', 'list', '--config', join(dir, 'alertname.json')]);
    expect(renamed).toMatchObject({ code: 2, out: '' });
    expect(renamed.err).toContain('labels.alertname is reserved');
  });

  it('refuses arguments and flags that would be ignored: extra words, --out for list, an empty --config', async () => {
    expect(await cli(['alerts', 'build', 'now', '--out', dir])).toMatchObject({ code: 2, err: expect.stringContaining('alerts build takes no arguments, got "now"') });
    expect(await cli(['alerts', 'list', '--out', dir])).toMatchObject({ code: 2, err: expect.stringContaining('--out is for `alerts build`') });
    expect(await cli(['alerts', 'list', '--config', ''])).toMatchObject({ code: 2, err: expect.stringContaining('--config must name a JSON file') });
  });
});
