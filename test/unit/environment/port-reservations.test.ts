import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultReservationsDir, fileReservations, processAlive } from '../../../environment/port-reservations';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'eda-reservations-test-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('fileReservations', () => {
  it('gives a port to one running process at a time, and back on release', () => {
    const a = fileReservations({ dir, pid: 101, alive: () => true });
    const b = fileReservations({ dir, pid: 102, alive: () => true });
    expect(a.reserve(20001)).toBe(true);
    expect(a.reserve(20001)).toBe(true); // its own, again
    expect(b.reserve(20001)).toBe(false);
    expect(readFileSync(join(dir, '20001'), 'utf8')).toBe('101');
    b.release([20001]); // not b's: stays
    expect(existsSync(join(dir, '20001'))).toBe(true);
    a.release([20001]);
    expect(existsSync(join(dir, '20001'))).toBe(false);
    expect(b.reserve(20001)).toBe(true);
  });

  it('takes over a port whose holder no longer runs', () => {
    fileReservations({ dir, pid: 201 }).reserve(20002);
    const alive = (pid: number) => pid !== 201;
    expect(fileReservations({ dir, pid: 202, alive }).reserve(20002)).toBe(true);
    expect(readFileSync(join(dir, '20002'), 'utf8')).toBe('202');
  });

  it('leaves a file without a pid alone while it is fresh (its writer may be about to write), takes it over once old', () => {
    writeFileSync(join(dir, '20003'), '');
    const c = fileReservations({ dir, pid: 301, alive: () => true });
    expect(c.reserve(20003)).toBe(false);
    const old = new Date(Date.now() - 60_000);
    utimesSync(join(dir, '20003'), old, old);
    expect(c.reserve(20003)).toBe(true);
  });

  it('reserves everything (listening still checks) when the directory cannot be made, and says so once', () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const warnings: string[] = [];
    const r = fileReservations({ dir: join(file, 'sub'), pid: 401, alive: () => true, warn: (m) => warnings.push(m) });
    expect(r.reserve(20004)).toBe(true);
    expect(r.reserve(20005)).toBe(true);
    expect(() => r.release([20004])).not.toThrow();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('EDA_HARNESS_PORT_RESERVATIONS');
  });

  it('a directory this user cannot write in (another user made it): reservations off, with a warning, instead of refusing every port', () => {
    const warnings: string[] = [];
    const denied = (path: string): number => {
      throw Object.assign(new Error(`EACCES: permission denied, open '${path}'`), { code: 'EACCES' });
    };
    const r = fileReservations({ dir, pid: 402, alive: () => true, openExclusive: denied, warn: (m) => warnings.push(m) });
    expect([r.reserve(20006), r.reserve(20007)]).toEqual([true, true]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('EACCES');
  });

  it('makes a new directory writable by every user, sticky', () => {
    const shared = join(dir, 'new-shared');
    fileReservations({ dir: shared, pid: 403 });
    expect(statSync(shared).mode & 0o7777).toBe(0o1777);
  });
});

describe('processAlive', () => {
  it('is true for this process and false for one that has exited', () => {
    expect(processAlive(process.pid)).toBe(true);
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    expect(processAlive(Number(child.stdout))).toBe(false);
  });
});

describe('releaseOnExit', () => {
  it('removes what the process still holds when it exits, and nothing of another process', () => {
    const other = fileReservations({ dir, pid: 501, alive: () => true });
    expect(other.reserve(20010)).toBe(true);
    const exits: (() => void)[] = [];
    const r = fileReservations({ dir, pid: 502, alive: () => true, releaseOnExit: true, onExit: (fn) => exits.push(fn) });
    expect([r.reserve(20011), r.reserve(20012), r.reserve(20010), r.reserve(20013)]).toEqual([true, true, false, true]);
    r.release([20013]);
    expect(exits).toHaveLength(1); // one hook, however many ports
    expect(existsSync(join(dir, '20011'))).toBe(true);
    exits[0]!();
    expect(existsSync(join(dir, '20011'))).toBe(false);
    expect(existsSync(join(dir, '20012'))).toBe(false);
    expect(readFileSync(join(dir, '20010'), 'utf8')).toBe('501');
  });
});

describe('defaultReservationsDir', () => {
  it('is shared under the temporary directory unless EDA_HARNESS_PORT_RESERVATIONS names another', () => {
    const before = process.env['EDA_HARNESS_PORT_RESERVATIONS'];
    try {
      delete process.env['EDA_HARNESS_PORT_RESERVATIONS'];
      expect(defaultReservationsDir()).toBe(join(tmpdir(), 'eda-harness-ports'));
      process.env['EDA_HARNESS_PORT_RESERVATIONS'] = dir;
      expect(defaultReservationsDir()).toBe(dir);
    } finally {
      if (before === undefined) delete process.env['EDA_HARNESS_PORT_RESERVATIONS'];
      else process.env['EDA_HARNESS_PORT_RESERVATIONS'] = before;
    }
  });
});

