import type { Consumer } from 'kafkajs';
import { KAFKA_CONSUMER_EVENT, LABEL } from '@eda-harness/semconv';
import type { ConsumerState } from './consumer';
import type { KafkaRuntime } from './runtime';

type EventListener = (e: { payload?: Record<string, unknown> }) => void;

/** Offset commits, group joins, rebalances, crashes and stops, from kafkajs's own events. */
export function listenToEvents(consumer: Consumer, k: KafkaRuntime, group: ConsumerState): void {
  const events = (consumer as { events?: Record<string, string> }).events;
  if (!events || typeof consumer.on !== 'function') return;
  const count = (event: string) => k.tap.record((m) => m.inc('KAFKA_CONSUMER_EVENTS', { [LABEL.MESSAGING_CONSUMER_GROUP_NAME]: group.groupId, [LABEL.EVENT]: event }));
  const subscribe = (name: string | undefined, listener: EventListener) => {
    if (!name) return;
    const remove = k.tap.guard.run('kafka.events.subscribe', () =>
      consumer.on(name as never, ((e: { payload?: Record<string, unknown> }) => k.tap.guard.run(`kafka.events.${name}`, () => listener(e))) as never),
    );
    if (typeof remove === 'function') k.listeners.push(remove);
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
