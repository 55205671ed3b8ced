import { ROOT_CONTEXT, context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { Registry } from 'prom-client';
import { recordDeadLetter } from '../../../instrumentation/index';
import { consumerGroupOf, withConsumerGroup } from '../../../instrumentation/kafka/group-context';

/** eda_dlq_messages_total names the consumer group, so DeadLetterRatioHigh can divide per group. */
describe('recordDeadLetter: messaging_consumer_group_name', () => {
  const manager = new AsyncLocalStorageContextManager();
  beforeAll(() => context.setGlobalContextManager(manager.enable()));
  afterAll(() => {
    manager.disable();
    context.disable();
  });
  const event = { system: 'kafka', source: 'orders', dlq: 'orders.DLT', reason: 'handler_error' } as const;
  const dlqLines = async (registry: Registry): Promise<string[]> => (await registry.metrics()).split('\n').filter((l) => l.startsWith('eda_dlq_messages_total{'));

  it('is the group of the Kafka handler context it is called in, the caller\'s consumerGroup first, and left out (empty) elsewhere', async () => {
    const registry = new Registry();
    recordDeadLetter({ ...event, registry });
    await context.with(withConsumerGroup(ROOT_CONTEXT, 'billing'), async () => {
      await Promise.resolve();
      recordDeadLetter({ ...event, registry });
      recordDeadLetter({ ...event, consumerGroup: 'named', registry });
    });
    expect((await dlqLines(registry)).sort()).toEqual(
      [
        'eda_dlq_messages_total{messaging_system="kafka",source="orders",dlq="orders.DLT",reason="handler_error"} 1',
        'eda_dlq_messages_total{messaging_system="kafka",source="orders",dlq="orders.DLT",reason="handler_error",messaging_consumer_group_name="billing"} 1',
        'eda_dlq_messages_total{messaging_system="kafka",source="orders",dlq="orders.DLT",reason="handler_error",messaging_consumer_group_name="named"} 1',
      ].sort(),
    );
  });

  it('an empty or missing group id adds nothing to the context', () => {
    expect(consumerGroupOf(withConsumerGroup(ROOT_CONTEXT, undefined))).toBeUndefined();
    expect(consumerGroupOf(withConsumerGroup(ROOT_CONTEXT, ''))).toBeUndefined();
    expect(consumerGroupOf(withConsumerGroup(ROOT_CONTEXT, 'g'))).toBe('g');
  });
});
