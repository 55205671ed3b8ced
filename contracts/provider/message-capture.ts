import type { ConfirmChannel } from 'amqplib';
import type { Producer } from 'kafkajs';
import { Registry } from 'prom-client';
import { amqpHandle, instrumentKafkaProducer } from '@eda-harness/instrumentation';
import { ContractError } from '@eda-harness/core';
import { createCapturingChannel } from '../capturing-channel';
import { createCapturingProducer } from '../capturing-producer';
import type { CapturedAmqpMessage, CapturedKafkaMessage, CapturedMessage } from '../types';

export interface MessageCapture {
  /** A kafkajs producer for the provider's real code; records instead of sending. */
  readonly producer: Producer;
  /** An amqplib confirm channel for the provider's real code; records instead of publishing. */
  readonly channel: ConfirmChannel;
  /** Everything captured so far: the Kafka records, then the AMQP messages, each in send order. */
  all(): readonly CapturedMessage[];
  /** The one Kafka record sent (the last one if several); fails if none was. */
  kafka(): CapturedKafkaMessage;
  /** The one AMQP message published (the last one if several); fails if none was. */
  amqp(): CapturedAmqpMessage;
  /** Removes the instrumentation. */
  close(): void;
}

export interface MessageCaptureOptions {
  /** Wrap the fakes with the eda-harness instrumentation, as production does (default true). */
  readonly instrument?: boolean;
}

/**
 * Transports for running a provider's real producing code without a broker. They carry the
 * eda-harness instrumentation by default, so what is verified includes the headers it adds.
 */
export function createMessageCapture(options: MessageCaptureOptions = {}): MessageCapture {
  const kafka = createCapturingProducer();
  const amqp = createCapturingChannel();
  const handles = options.instrument === false ? [] : [instrumentKafkaProducer(kafka.producer, { registry: new Registry() }), amqpHandle(amqp.channel, { registry: new Registry() })];
  return {
    producer: kafka.producer,
    channel: amqp.channel,
    all: () => [...kafka.sent, ...amqp.published],
    kafka() {
      const last = kafka.sent[kafka.sent.length - 1];
      if (!last) throw new ContractError('the provider code sent no Kafka message');
      return last;
    },
    amqp() {
      const last = amqp.published[amqp.published.length - 1];
      if (!last) throw new ContractError('the provider code published no AMQP message');
      return last;
    },
    close() {
      for (const h of handles) h.uninstrument();
    },
  };
}
