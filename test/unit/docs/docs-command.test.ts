import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { referencePages } from '../../../cli/reference-pages';
import { runMain as cli } from '../../support/run-main';

/** `docs build --out` is checked before anything is written (issue 15, item 4). */
describe('eda-harness docs build --out', () => {
  it('is exit 2 naming --out on /proc paths and on an empty value', async () => {
    const proc = await cli(['docs', 'build', '--out', '/proc/forbidden']);
    expect(proc).toMatchObject({ code: 2, out: '' });
    expect(proc.err).toContain('Cannot create the --out folder /proc/forbidden');
    expect(await cli(['docs', 'build', '--out', ''])).toMatchObject({ code: 2, out: '', err: expect.stringContaining('--out must name a folder, got ""') });
  });

  it('writes nothing when one page cannot be written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eda-docs-cli-'));
    try {
      const [last] = [...referencePages().keys()].slice(-1);
      mkdirSync(join(dir, last!), { recursive: true });
      const res = await cli(['docs', 'build', '--out', dir]);
      expect(res.code).toBe(2);
      expect(res.err).toContain(`Cannot write ${join(dir, last!)}: it is a folder`);
      expect(readdirSync(join(dir, 'docs', 'reference'))).toEqual([last!.split('/').pop()]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses extra arguments', async () => {
    expect(await cli(['docs', 'build', 'now'])).toMatchObject({ code: 2, err: expect.stringContaining('docs build takes no arguments, got "now"') });
  });
});
