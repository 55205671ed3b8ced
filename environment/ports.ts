import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { defaultReservationsDir, fileReservations } from './port-reservations';
import type { PortReservations } from './port-reservations';

/** Ports below this are left alone: the well-known homes of brokers, proxies and dev servers. */
const LOWEST_PORT = 10_000;
/** A band outside the ephemeral range is used only when it holds at least this many ports. */
const MIN_BAND = 2_000;

/**
 * The kernel's range for the local ports of outgoing connections (Linux:
 * /proc/sys/net/ipv4/ip_local_port_range), or undefined where it cannot be read.
 */
export function ephemeralPortRange(read: () => string = () => readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')): [number, number] | undefined {
  try {
    const [lo, hi] = read().trim().split(/\s+/).map(Number);
    if (lo === undefined || hi === undefined || !Number.isInteger(lo) || !Number.isInteger(hi) || lo < 1 || hi > 65_535 || lo > hi) return undefined;
    return [lo, hi];
  } catch {
    return undefined;
  }
}

/**
 * Where to pick listening ports: the larger band outside the ephemeral range, between LOWEST_PORT
 * and 65535, when it holds at least MIN_BAND ports; otherwise undefined (the kernel picks).
 */
export function portBand(ephemeral: [number, number] | undefined): [number, number] | undefined {
  if (!ephemeral) return undefined;
  const [lo, hi] = ephemeral;
  const below: [number, number] = [LOWEST_PORT, lo - 1];
  const above: [number, number] = [Math.max(LOWEST_PORT, hi + 1), 65_535];
  const size = ([a, b]: [number, number]): number => b - a + 1;
  const best = size(below) >= size(above) ? below : above;
  return size(best) >= MIN_BAND ? best : undefined;
}

/**
 * Local ports of every TCP socket the kernel lists in `tables` (/proc/net/tcp and tcp6 text), in
 * any state: listening, connected, or TIME_WAIT after a process was killed. Unreadable text: none.
 */
export function portsInUse(tables: readonly string[]): Set<number> {
  const used = new Set<number>();
  for (const table of tables) {
    for (const line of table.split('\n')) {
      const local = line.trim().split(/\s+/)[1];
      const hex = local?.slice(local.lastIndexOf(':') + 1);
      if (!hex || !/^[0-9A-Fa-f]{4}$/.test(hex)) continue;
      used.add(parseInt(hex, 16));
    }
  }
  return used;
}

function readTcpTables(): string[] {
  const tables: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    try {
      tables.push(readFileSync(file, 'utf8'));
    } catch {
      /* not Linux, or no IPv6 */
    }
  }
  return tables;
}

/** Listens on 127.0.0.1:`port` (0: any); the server, or undefined when the port is taken or refused. */
async function hold(port: number): Promise<Server | undefined> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/**
 * `count` distinct TCP ports free on 127.0.0.1, checked by listening on them all at once, then
 * released for the caller's processes to bind. Every run gets its own ports, so parallel runs (and
 * a system RabbitMQ on 5672) never collide.
 *
 * They are picked at random outside the kernel's ephemeral range where it can be read (Linux):
 * a port from inside it can be taken, between our release and the broker's bind, as the local
 * port of any outgoing connection on the machine (a CI run saw RabbitMQ's distribution port so
 * taken: `dist_port_already_used ... not_erlang`). Elsewhere, or when that band is too small,
 * the kernel picks them. A port any socket uses (in /proc/net/tcp, TIME_WAIT included) is not
 * drawn: listening with SO_REUSEADDR would succeed on the port of a broker a fault just killed,
 * which that broker needs again when it restarts; the kernel's own choice avoids those too.
 * The ports are reserved machine-wide until {@link releasePorts} (see PortReservations), so
 * another process drawing meanwhile does not take them while a broker is starting or down.
 */
export async function allocatePorts(count: number, options: { band?: [number, number] | undefined; random?: () => number; inUse?: ReadonlySet<number>; reservations?: PortReservations } = {}): Promise<number[]> {
  const band = 'band' in options ? options.band : portBand(ephemeralPortRange());
  const random = options.random ?? Math.random;
  const inUse = options.inUse ?? (band ? portsInUse(readTcpTables()) : new Set<number>());
  const reservations = options.reservations ?? sharedReservations();
  const servers: Server[] = [];
  const ports: number[] = [];
  let complete = false;
  try {
    if (band) {
      const [lo, hi] = band;
      const tried = new Set<number>();
      const maxTries = Math.min(hi - lo + 1, count * 50);
      for (let draw = 0; ports.length < count && tried.size < maxTries && draw < maxTries * 4; draw++) {
        const port = lo + Math.floor(random() * (hi - lo + 1));
        if (tried.has(port)) continue;
        tried.add(port);
        if (inUse.has(port)) continue;
        const server = await hold(port);
        if (!server) continue;
        servers.push(server);
        // Free now, but drawn by another process that has not bound it yet: not ours to use.
        if (!reservations.reserve(port)) continue;
        ports.push(port);
      }
    }
    for (let attempts = 0; ports.length < count; attempts++) {
      if (attempts >= count * 50) throw new Error(`no free TCP port on 127.0.0.1: the kernel's ports were all reserved by other eda-harness processes (${defaultReservationsDir()})`);
      const server = await hold(0);
      if (!server) throw new Error('no free TCP port on 127.0.0.1: listening on port 0 failed');
      servers.push(server);
      const addr = server.address();
      if (addr && typeof addr === 'object' && !ports.includes(addr.port) && reservations.reserve(addr.port)) ports.push(addr.port);
    }
    complete = true;
    return ports;
  } finally {
    if (!complete) reservations.release(ports);
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

let shared: PortReservations | undefined;
/** The machine-wide reservations, made on first use. */
function sharedReservations(): PortReservations {
  return (shared ??= fileReservations({ releaseOnExit: true }));
}

/**
 * Gives back ports allocatePorts returned (or the ones given the same `reservations`), once
 * nothing of the caller's listens on them any more: other processes may draw them again.
 */
export function releasePorts(ports: readonly number[], reservations: PortReservations = sharedReservations()): void {
  reservations.release(ports);
}
