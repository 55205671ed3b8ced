import { createServer, type Server } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allocatePorts, ephemeralPortRange, portBand, portsInUse, releasePorts } from '../../../environment/ports';
import { fileReservations } from '../../../environment/port-reservations';
import type { PortReservations } from '../../../environment/port-reservations';

/** Reservations of this test file alone (another process's reservation must not decide a draw here). */
let dir: string;
let reservations: PortReservations;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'eda-ports-test-'));
  reservations = fileReservations({ dir });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function listen(port: number): Promise<Server> {
  const server = createServer();
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}
const close = (s: Server): Promise<void> => new Promise((r) => s.close(() => r()));

/** A free port taken from the kernel and released. */
async function freePort(): Promise<number> {
  const s = await listen(0);
  const port = (s.address() as { port: number }).port;
  await close(s);
  return port;
}

describe('ephemeralPortRange and portBand', () => {
  it('reads the kernel range, and refuses anything else', () => {
    expect(ephemeralPortRange(() => '32768\t60999\n')).toEqual([32768, 60999]);
    expect(ephemeralPortRange(() => '1024 65535')).toEqual([1024, 65535]);
    for (const bad of ['', 'x y', '60999 32768', '0 100', '1 70000']) expect(ephemeralPortRange(() => bad)).toBeUndefined();
    expect(
      ephemeralPortRange(() => {
        throw new Error('ENOENT');
      }),
    ).toBeUndefined();
  });

  it('picks the larger band outside the ephemeral range, above 10000, or none when it is too small', () => {
    expect(portBand([32768, 60999])).toEqual([10000, 32767]);
    expect(portBand([49152, 65535])).toEqual([10000, 49151]);
    expect(portBand([10000, 20000])).toEqual([20001, 65535]);
    expect(portBand([1024, 65535])).toBeUndefined();
    expect(portBand([11000, 64000])).toBeUndefined();
    expect(portBand(undefined)).toBeUndefined();
  });

  it('on this machine, where /proc says so, keeps the ports it hands out out of the ephemeral range', async () => {
    const range = ephemeralPortRange();
    const ports = await allocatePorts(20, { reservations });
    expect(new Set(ports).size).toBe(20);
    if (range && portBand(range)) for (const p of ports) expect(p < range[0] || p > range[1]).toBe(true);
  });
});

describe('allocatePorts', () => {
  it('gives distinct ports from the band, free to listen on once returned', async () => {
    const ports = await allocatePorts(8, { band: [20000, 20999], reservations });
    expect(new Set(ports).size).toBe(8);
    for (const p of ports) expect(p >= 20000 && p <= 20999).toBe(true);
    const servers = await Promise.all(ports.map(listen));
    await Promise.all(servers.map(close));
  });

  it('skips a port somebody listens on, and falls back to the kernel when the band has nothing free', async () => {
    const taken = await freePort();
    const occupant = await listen(taken);
    try {
      // The first draw is the taken port, the second its neighbour.
      const draws = [0, 0.99];
      const skipped = await allocatePorts(1, { band: [taken, taken + 1], random: () => draws.shift() ?? 0.5, reservations });
      expect(skipped).not.toContain(taken);
      expect(skipped).toHaveLength(1);
      // A band of one taken port and a random source that always draws it: no endless loop.
      const fallback = await allocatePorts(2, { band: [taken, taken], random: () => 0, reservations });
      expect(fallback).toHaveLength(2);
      expect(fallback).not.toContain(taken);
    } finally {
      await close(occupant);
    }
  });

  it('reads the local ports of /proc/net/tcp and tcp6 in any state, and never draws one of them', async () => {
    const tcp = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:4E20 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1083 1',
      '   1: 0100007F:4E21 0100007F:9C40 06 00000000:00000000 03:00000F9E 00000000     0        0 0 3',
    ].join('\n');
    const tcp6 = '  sl  local_address                         remote_address                        st\n   0: 00000000000000000000000001000000:4E22 00000000000000000000000000000000:0000 0A';
    expect([...portsInUse([tcp, tcp6])].sort()).toEqual([20000, 20001, 20002]);
    expect(portsInUse(['garbage', ''])).toEqual(new Set());
    // 20001 is only in TIME_WAIT (state 06): listening on it would work, yet it is skipped.
    const draws = [0, 0.5, 0.99];
    const ports = await allocatePorts(1, { band: [20000, 20002], random: () => draws.shift() ?? 0.5, inUse: new Set([20000, 20001]), reservations });
    expect(ports).toEqual([20002]);
  });

  it('without a band the kernel picks, as before', async () => {
    const ports = await allocatePorts(3, { band: undefined, reservations });
    expect(new Set(ports).size).toBe(3);
  });
});

describe('allocatePorts across processes', () => {
  it('never hands out a port another running process drew and still holds, even once nothing listens on it', async () => {
    const shared = mkdtempSync(join(tmpdir(), 'eda-ports-shared-'));
    try {
      // Two processes on one machine: the same directory, two pids, both running.
      const a = fileReservations({ dir: shared, pid: 1_000_001, alive: () => true });
      const b = fileReservations({ dir: shared, pid: 1_000_002, alive: () => true });
      const lo = 20000 + Math.floor(Math.random() * 10000);
      const band: [number, number] = [lo, lo + 99];
      const first = await allocatePorts(60, { band, reservations: a });
      // a's brokers are not listening yet (or are down in a fault): only the reservation protects them.
      const second = await allocatePorts(60, { band, reservations: b });
      expect(first).toHaveLength(60);
      expect(second).toHaveLength(60);
      expect(second.filter((p) => first.includes(p))).toEqual([]);
      // Released, they can be drawn again.
      releasePorts(first, a);
      const third = await allocatePorts(30, { band, reservations: fileReservations({ dir: shared, pid: 1_000_003, alive: () => true }) });
      expect(third.filter((p) => first.includes(p)).length).toBeGreaterThan(0);
    } finally {
      rmSync(shared, { recursive: true, force: true });
    }
  });
});

