import { connect } from 'amqplib';
import type { ChannelModel } from 'amqplib';
import { Kafka, logLevel } from 'kafkajs';
import { instrumentAmqp, instrumentKafka } from '@eda-harness/instrumentation';
import type { KafkaSecurityOptions, ReferenceInstrumentation } from './types';

/** A kafkajs client that does not log: the harness reports what matters. TLS / SASL when given. */
export function quietKafka(clientId: string, brokers: readonly string[], security: KafkaSecurityOptions = {}): Kafka {
  return new Kafka({ clientId, brokers: [...brokers], logLevel: logLevel.NOTHING, ...security });
}

/** A reference service's Kafka client, instrumented the way a user would do it. */
export function instrumentedKafka(clientId: string, brokers: readonly string[], instrumentation: ReferenceInstrumentation = {}, security: KafkaSecurityOptions = {}): Kafka {
  return instrumentKafka(quietKafka(clientId, brokers, security), { clientId, brokers, ...instrumentation });
}

/** A reference service's RabbitMQ connection, instrumented the way a user would do it. */
export async function connectInstrumentedAmqp(url: string, instrumentation: ReferenceInstrumentation = {}): Promise<ChannelModel> {
  return instrumentAmqp(await connect(url), { ...instrumentation });
}
