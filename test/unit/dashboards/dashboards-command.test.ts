import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dashboardFiles, dashboardQueries } from '../../../dashboards/dashboard-files';
import { main } from '../../../cli/main';

async function cli(argv: string[]): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    return { code: await main(argv), out: out.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

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

  it('an unknown subcommand is a usage error', async () => {
    expect((await cli(['dashboards', 'import'])).code).toBe(2);
  });
});
