import { SpanKind } from '@opentelemetry/api';
import { Registry } from 'prom-client';
import { AmqplibInstrumentation, KafkaJsInstrumentation } from '../../../instrumentation/index';
import { useOtel } from './otel-fixture';

const otel = useOtel();

describe('OpenTelemetry Instrumentation classes (same wrappers, prototype entry points)', () => {
  it('KafkaJsInstrumentation patches Kafka.prototype and restores it on disable', async () => {
    const send = async (..._args: unknown[]) => [];
    class Kafka {
      producer() {
        return { send, sendBatch: send, transaction: async () => ({}) };
      }
      consumer() {
        return { run: async () => undefined };
      }
    }
    const originalProducer = Kafka.prototype.producer;
    const instrumentation = new KafkaJsInstrumentation({ registry: new Registry(), enabled: false });
    instrumentation.setTracerProvider(otel.provider);
    instrumentation.patch({ Kafka } as never);
    instrumentation.patch({ Kafka } as never); // idempotent
    const producer = new Kafka().producer();
    await producer.send();
    expect(producer.send).not.toBe(send);
    await producer.send({ topic: 't', messages: [{ value: 'x' }] } as never);
    expect(otel.spans('send t').map((s) => s.kind)).toEqual([SpanKind.PRODUCER]);
    instrumentation.unpatch();
    expect(Kafka.prototype.producer).toBe(originalProducer);
    expect(producer.send).toBe(send); // producers made while patched are restored too
  });

  it('AmqplibInstrumentation patches ChannelModel.prototype.createChannel and restores it', async () => {
    const publish = function publish() {
      return true;
    };
    class ChannelModel {
      async createChannel() {
        return Object.assign(new (await import('node:events')).EventEmitter(), { publish, consume: async () => ({}), get: async () => false, assertQueue: async () => ({}), ack() {}, nack() {}, reject() {}, ackAll() {}, nackAll() {} });
      }
      async createConfirmChannel() {
        return this.createChannel();
      }
    }
    const originalCreate = ChannelModel.prototype.createChannel;
    const instrumentation = new AmqplibInstrumentation({ registry: new Registry(), enabled: false });
    instrumentation.setTracerProvider(otel.provider);
    instrumentation.patch({ ChannelModel } as never);
    const ch = await new ChannelModel().createChannel();
    (ch.publish as (...a: unknown[]) => boolean)('ex', 'rk', Buffer.from('x'), {});
    expect(otel.spans('publish ex')).toHaveLength(1);
    instrumentation.unpatch();
    expect(ChannelModel.prototype.createChannel).toBe(originalCreate);
    expect(ch.publish).toBe(publish);
  });

  it('declares the modules it hooks for registerInstrumentations', () => {
    const k = new KafkaJsInstrumentation({ enabled: false });
    const a = new AmqplibInstrumentation({ enabled: false });
    expect(k.getModuleDefinitions().map((d) => d.name)).toEqual(['kafkajs']);
    expect(a.getModuleDefinitions()[0]!.files.map((f) => f.name)).toEqual(['amqplib/lib/channel_model.js', 'amqplib/lib/callback_model.js']);
  });
});
