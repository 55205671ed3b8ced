import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Pact } from '@pact-foundation/pact';
import type { Metadata } from '@pact-foundation/pact';
import { ContractError } from '@eda-harness/core';
import type { MessagePact, MessagePactOptions, PactMessage, ProviderStateSpec } from '../types';
import { amqpMetadata } from './amqp-metadata';
import { defaultPactDir } from './default-pact-dir';
import { kafkaMetadata } from './kafka-metadata';
import { runAmqpHandler } from './run-amqp-handler';
import { runKafkaHandler } from './run-kafka-handler';
import { toConsumeMessage } from './to-consume-message';
import { toEachMessagePayload } from './to-each-message-payload';

/**
 * Declares a consumer's message contract with a provider. Each expectation is recorded as a V4
 * asynchronous message interaction, with the transport facts (topic, key, exchange, routing key,
 * content type, headers) as metadata, and is proven by running the consumer's real handler on it.
 */
export function messagePact(options: MessagePactOptions): MessagePact {
  const dir = resolve(options.dir ?? defaultPactDir());
  const file = join(dir, `${options.consumer}-${options.provider}.json`);
  if (options.fresh !== false) rmSync(file, { force: true });
  const pact = new Pact({ consumer: options.consumer, provider: options.provider, dir, logLevel: options.logLevel ?? 'warn' });

  /** Records one interaction and runs `test` on Pact's example message; Pact writes it only if `test` resolves. */
  const interaction = async <T>(description: string, states: readonly ProviderStateSpec[] | undefined, content: unknown, metadata: Metadata, test: (m: PactMessage) => Promise<T>): Promise<T> => {
    let builder = pact.addAsynchronousInteraction();
    for (const s of states ?? []) builder = typeof s === 'string' ? builder.given(s) : builder.given(s.name, s.params as never);
    const result = await builder.expectsToReceive(description, (b) => b.withJSONContent(content).withMetadata(metadata)).executeTest((m) => test(m as PactMessage));
    if (result === undefined) throw new ContractError(`the "${description}" interaction produced no result`);
    return result;
  };

  return {
    file,
    expectKafkaMessage(expectation) {
      return {
        handledBy: (handler, handling = {}) =>
          interaction(expectation.description, expectation.states, expectation.value, kafkaMetadata(expectation), async (m) => {
            const payload = toEachMessagePayload(m, {
              ...(handling.partition === undefined ? {} : { partition: handling.partition }),
              ...(handling.offset === undefined ? {} : { offset: handling.offset }),
            });
            return { result: await runKafkaHandler(payload, handler, handling), payload };
          }),
      };
    },
    expectAmqpMessage(expectation) {
      return {
        handledBy: (factory, handling = {}) =>
          interaction(expectation.description, expectation.states, expectation.content, amqpMetadata(expectation), async (m) => {
            const message = toConsumeMessage(m, handling.deliveryTag === undefined ? {} : { deliveryTag: handling.deliveryTag });
            const outcome = await runAmqpHandler(message, factory, handling);
            if (handling.requireAck !== false && outcome.settlement.kind !== 'ack') {
              const how = outcome.settlement.kind === 'none' ? 'never settled it' : `${outcome.settlement.kind}ed it (requeue=${String(outcome.settlement.requeue)})`;
              throw new ContractError(`the consumer handler did not accept a valid "${expectation.description}" message: it ${how}`, {
                hint: 'a message matching the contract must be acked; fix the handler or the contract',
              });
            }
            return outcome;
          }),
      };
    },
  };
}
