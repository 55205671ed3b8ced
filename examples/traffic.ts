import { sampleOrder } from './sample-orders';
import type { ReferenceSystem } from './reference-system';

export interface TrafficOptions {
  /** Orders placed per second (default 5). */
  readonly ordersPerSecond?: number;
  /** After every this many orders, one poison email command (default 20; 0 = none). */
  readonly poisonEvery?: number;
  /** Every this many orders, one for a recipient whose emails always fail, so retries run out (default 0 = none). */
  readonly bouncingEvery?: number;
  /** Stop by itself after this many orders (default: run until stop()). */
  readonly maxOrders?: number;
  /** Recipient domain that fails (must be one of the system's failing domains; default `bounce.invalid`). */
  readonly bouncingDomain?: string;
}

export interface TrafficStats {
  orders: number;
  /** Malformed commands published: each must end in the dead-letter queue without a retry. */
  poison: number;
  /** Orders whose email always fails: each must end in the dead-letter queue after the retries. */
  bouncing: number;
  /** Sends that failed (broker trouble); the generator keeps going. */
  errors: number;
}

export interface Traffic {
  readonly stats: Readonly<TrafficStats>;
  /** Resolves when maxOrders have been placed (or stop() was called). */
  readonly done: Promise<TrafficStats>;
  stop(): Promise<TrafficStats>;
}

/** Two kinds of poison, alternating: bytes that are not JSON, and a command without a recipient. */
export function poisonEmailCommand(n: number): Buffer {
  if (n % 2 === 0) return Buffer.from('{"eventType":"SendEmail", this is not json');
  return Buffer.from(
    JSON.stringify({
      eventId: '00000000-0000-4000-8000-000000000000',
      eventType: 'SendEmail',
      occurredAt: new Date().toISOString(),
      version: 1,
      payload: { template: 'order-confirmation', orderId: 'order-poison', subject: 'no recipient' },
      metadata: { correlationId: 'poison' },
    }),
  );
}

/**
 * Steady traffic through the reference system: orders at a fixed rate, a poison email command
 * now and then, and optionally orders whose confirmation email can never be delivered.
 */
export function startTraffic(system: ReferenceSystem, options: TrafficOptions = {}): Traffic {
  const intervalMs = 1000 / (options.ordersPerSecond ?? 5);
  const poisonEvery = options.poisonEvery ?? 20;
  const bouncingEvery = options.bouncingEvery ?? 0;
  const stats: TrafficStats = { orders: 0, poison: 0, bouncing: 0, errors: 0 };
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let finish: (s: TrafficStats) => void = () => undefined;
  const done = new Promise<TrafficStats>((resolve) => (finish = resolve));
  const end = () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    finish({ ...stats });
  };

  const tick = async () => {
    if (stopped) return;
    const n = stats.orders + stats.bouncing;
    try {
      if (bouncingEvery > 0 && n > 0 && n % bouncingEvery === 0) {
        await system.placeOrder(sampleOrder(n, { email: `customer-${n}@${options.bouncingDomain ?? 'bounce.invalid'}` }));
        stats.bouncing += 1;
      } else {
        await system.placeOrder(sampleOrder(n));
        stats.orders += 1;
      }
      if (poisonEvery > 0 && (stats.orders + stats.bouncing) % poisonEvery === 0) {
        await system.publishEmailCommand(poisonEmailCommand(stats.poison), { contentType: 'application/json', persistent: true });
        stats.poison += 1;
      }
    } catch {
      stats.errors += 1;
    }
    if (options.maxOrders !== undefined && stats.orders + stats.bouncing >= options.maxOrders) return end();
    if (!stopped) timer = setTimeout(() => void tick(), intervalMs);
  };
  timer = setTimeout(() => void tick(), 0);

  return {
    stats,
    done,
    async stop() {
      end();
      return { ...stats };
    },
  };
}
