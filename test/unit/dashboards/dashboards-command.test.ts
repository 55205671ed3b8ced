import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dashboardFiles, dashboardQueries } from '../../../dashboards/dashboard-files';
import { runMain as cli } from '../../support/run-main';

describe('eda-harness dashboards', () => {
  it('build --out writes every dashboard as generated', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eda-dashboards-cli-'));
    try {
      expect((await cli(['dashboards', 'build', '--out', dir])).code).toBe(0);
      for (const [rel, content] of dashboardFiles()) expect(readFileSync(join(dir, rel), 'utf8')).toBe(content);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('queries prints one line per panel query', async () => {
    const res = await cli(['dashboards', 'queries']);
    expect(res.code).toBe(0);
    expect(res.out.split('\n')).toHaveLength(dashboardQueries().length);
  });

  it('build and queries take the cluster label, the partition topk and the abandoned window', async () => {
    const options = { clusterLabel: 'kafka_cluster', partitionTopK: 5, abandonedAfter: '6h' };
    const flags = ['--cluster-label', 'kafka_cluster', '--partition-topk', '5', '--abandoned-after', '6h'];
    const res = await cli(['dashboards', 'queries', ...flags]);
    expect(res.code).toBe(0);
    expect(res.out.trim().split('\n')).toEqual(dashboardQueries(options).map((q) => `${q.dashboard}\t${q.panel}\t${q.expr}`));
    expect(res.out).toContain('topk(5,');
    expect(res.out).toContain('kafka_cluster=~"$cluster"');
    expect(res.out).toContain('[6h]');
    expect(res.out).not.toContain('topk(20,');
    const dir = mkdtempSync(join(tmpdir(), 'eda-dashboards-cli-'));
    try {
      expect((await cli(['dashboards', 'build', '--out', dir, ...flags])).code).toBe(0);
      for (const [rel, content] of dashboardFiles(options)) expect(readFileSync(join(dir, rel), 'utf8')).toBe(content);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an unknown subcommand is a usage error', async () => {
    expect((await cli(['dashboards', 'import'])).code).toBe(2);
  });

  it('build --out checks the folder before writing: /proc paths, an empty value, a dashboard path that is a folder', async () => {
    const proc = await cli(['dashboards', 'build', '--out', '/proc/forbidden']);
    expect(proc).toMatchObject({ code: 2, out: '' });
    expect(proc.err).toContain('Cannot create the --out folder /proc/forbidden');
    expect(await cli(['dashboards', 'build', '--out', ''])).toMatchObject({ code: 2, err: expect.stringContaining('--out must name a folder') });
    const dir = mkdtempSync(join(tmpdir(), 'eda-dashboards-cli-'));
    try {
      const [last] = [...dashboardFiles().keys()].slice(-1);
      mkdirSync(join(dir, last!), { recursive: true });
      const res = await cli(['dashboards', 'build', '--out', dir]);
      expect(res.code).toBe(2);
      expect(res.err).toContain(`Cannot write ${join(dir, last!)}: it is a folder`);
      // Nothing was written: the check comes first.
      expect(readdirSync(join(dir, 'dashboards', 'grafana'))).toEqual([last!.split('/').pop()]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses arguments and flags that would be ignored', async () => {
    expect(await cli(['dashboards', 'queries', 'extra'])).toMatchObject({ code: 2, err: expect.stringContaining('dashboards queries takes no arguments, got "extra"') });
    expect(await cli(['dashboards', 'queries', '--out', '/tmp'])).toMatchObject({ code: 2, err: expect.stringContaining('--out is for `dashboards build`') });
  });
});
