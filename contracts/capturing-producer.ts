import type { IHeaders, Producer, ProducerBatch, ProducerEvents, ProducerRecord, RecordMetadata } from 'kafkajs';
import { silentKafkaLogger, unsupported } from './stand-in';
import type { CapturedKafkaMessage } from './types';

export interface CapturingProducer {
  /**
   * A kafkajs producer with no broker behind it: send / sendBatch record, connect / disconnect do
   * nothing, `on` registers listeners that never fire, transaction() throws UnsupportedError.
   */
  readonly producer: Producer;
  readonly sent: readonly CapturedKafkaMessage[];
}

/** kafkajs's producer event names, as `producer.events` carries them. */
const PRODUCER_EVENTS: ProducerEvents = {
  CONNECT: 'producer.connect',
  DISCONNECT: 'producer.disconnect',
  REQUEST: 'producer.network.request',
  REQUEST_TIMEOUT: 'producer.network.request_timeout',
  REQUEST_QUEUE_SIZE: 'producer.network.request_queue_size',
};

/**
 * A stand-in for a kafkajs producer that records every record instead of sending it, so a
 * provider's real code can be run in contract verification without Kafka. Each send resolves
 * with plausible metadata (partition 0, increasing offsets).
 */
export function createCapturingProducer(): CapturingProducer {
  const sent: CapturedKafkaMessage[] = [];
  let offset = 0;
  const record = (r: ProducerRecord): RecordMetadata[] => {
    for (const m of r.messages) {
      sent.push({ transport: 'kafka', topic: r.topic, key: text(m.key), headers: headersText(m.headers), value: text(m.value) });
    }
    offset += r.messages.length;
    return [{ topicName: r.topic, partition: 0, errorCode: 0, baseOffset: String(offset - r.messages.length) }];
  };
  const producer: Producer = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    isIdempotent: () => false,
    send: async (r: ProducerRecord) => record(r),
    sendBatch: async (b: ProducerBatch) => (b.topicMessages ?? []).flatMap((r) => record({ topic: r.topic, messages: r.messages })),
    transaction: async () =>
      unsupported('capturing producer', 'producer.transaction()', 'contract verification captures send() and sendBatch(); verify transactional producing code against a real broker'),
    events: PRODUCER_EVENTS,
    on: () => () => undefined,
    logger: silentKafkaLogger,
  };
  return { producer, sent };
}

function text(value: Buffer | string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? value : value.toString('utf8');
}

function headersText(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    out[name] = (Array.isArray(value) ? value : [value]).map((v) => (typeof v === 'string' ? v : v.toString('utf8'))).join(', ');
  }
  return out;
}
