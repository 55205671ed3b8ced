import type { Consumer } from 'kafkajs';
import { KAFKA_CONSUMER_EVENT, LABEL } from '../shared/vocabulary';
import type { ConsumerState } from './consumer';
import type { KafkaRuntime } from './runtime';

type EventListener = (e: { payload?: Record<string, unknown> }) => void;

/** Dead WeakRefs are swept when the list has doubled since the last sweep (amortised O(1)). */
const FIRST_SWEEP_AT = 64;

/**
 * The removers of the kafkajs event listeners added to each consumer, for uninstrument(). Held
 * per consumer in a WeakMap, with only a WeakRef per consumer to walk: a consumer the app drops
 * takes its listeners and their removers with it, however many consumers come and go.
 */
export class ConsumerListeners {
  private removers = new WeakMap<object, Array<() => void>>();
  private readonly refs = new Set<WeakRef<object>>();
  private sweepAt = FIRST_SWEEP_AT;
  private finalizer: FinalizationRegistry<WeakRef<object>> | undefined;

  has(consumer: object): boolean {
    return this.removers.has(consumer);
  }

  add(consumer: object, remove: () => void): void {
    const list = this.removers.get(consumer);
    if (list) {
      list.push(remove);
      return;
    }
    this.removers.set(consumer, [remove]);
    const ref = new WeakRef(consumer);
    this.refs.add(ref);
    this.finalizer ??= new FinalizationRegistry((dead) => this.refs.delete(dead));
    this.finalizer.register(consumer, ref, ref);
    // Finalization callbacks are not guaranteed to run; the sweep bounds the list regardless.
    if (this.refs.size >= this.sweepAt) {
      this.sweep();
      this.sweepAt = Math.max(FIRST_SWEEP_AT, this.refs.size * 2);
    }
  }

  /** Calls every remover of every consumer still alive (through `run`, which must not throw) and forgets them. */
  removeAll(run: (remove: () => void) => void): void {
    for (const ref of this.refs) {
      const consumer = ref.deref();
      const list = consumer && this.removers.get(consumer);
      if (list) for (const remove of list) run(remove);
      this.finalizer?.unregister(ref);
    }
    this.refs.clear();
    this.removers = new WeakMap();
    this.sweepAt = FIRST_SWEEP_AT;
  }

  /** How many consumers with listeners are still alive; for tests and diagnostics. */
  liveConsumerCount(): number {
    this.sweep();
    return this.refs.size;
  }

  private sweep(): void {
    for (const ref of this.refs) if (ref.deref() === undefined) this.refs.delete(ref);
  }
}

/** Offset commits, group joins, rebalances, crashes and stops, from kafkajs's own events. Once per consumer. */
export function listenToEvents(consumer: Consumer, k: KafkaRuntime, group: ConsumerState): void {
  const events = (consumer as { events?: Record<string, string> }).events;
  if (!events || typeof consumer.on !== 'function' || k.listeners.has(consumer)) return;
  const count = (event: string) => k.tap.record((m) => m.inc('KAFKA_CONSUMER_EVENTS', { [LABEL.MESSAGING_CONSUMER_GROUP_NAME]: group.groupId, [LABEL.EVENT]: event }));
  const subscribe = (name: string | undefined, listener: EventListener) => {
    if (!name) return;
    const remove = k.tap.guard.run('kafka.events.subscribe', () =>
      consumer.on(name as never, ((e: { payload?: Record<string, unknown> }) => k.tap.guard.run(`kafka.events.${name}`, () => listener(e))) as never),
    );
    if (typeof remove === 'function') k.listeners.add(consumer, remove as () => void);
  };
  subscribe(events['GROUP_JOIN'], (e) => {
    const id = e.payload?.['groupId'];
    if (typeof id === 'string') group.groupId = id;
    count(KAFKA_CONSUMER_EVENT.GROUP_JOIN);
  });
  subscribe(events['COMMIT_OFFSETS'], () => count(KAFKA_CONSUMER_EVENT.COMMIT_OFFSETS));
  subscribe(events['REBALANCING'], () => count(KAFKA_CONSUMER_EVENT.REBALANCING));
  subscribe(events['STOP'], () => count(KAFKA_CONSUMER_EVENT.STOP));
  subscribe(events['CRASH'], () => count(KAFKA_CONSUMER_EVENT.CRASH));
}
