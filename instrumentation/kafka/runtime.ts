import type { Attributes, SpanOptions } from '@opentelemetry/api';
import type { SendCells } from '../shared/send-cells';
import { ATTR, MESSAGING_SYSTEM } from '../shared/vocabulary';
import type { Patcher } from '../shared/patcher';
import { createTap } from '../shared/tap';
import type { Tap } from '../shared/tap';
import type { KafkaInstrumentationOptions } from '../types';
import { ConsumerListeners } from './consumer-events';

/** What the producer and consumer wrappers of one Kafka instrumenter share. */
export interface KafkaRuntime {
  readonly tap: Tap;
  readonly options: KafkaInstrumentationOptions;
  readonly patcher: Patcher;
  /** Attributes every Kafka span carries: system, client id, server address/port. */
  readonly commonAttributes: Attributes;
  /** Removers of the kafkajs instrumentation-event listeners we added, per consumer (held weakly). */
  readonly listeners: ConsumerListeners;
  /** Per topic sent to: what every send of one message set to it shares (bounded: cleared when full). */
  readonly sendShapes: Map<string, SendShape>;
}

/** What every send to one topic shares: computed once, not per send. */
export interface SendShape {
  readonly name: string;
  /** Creation attributes of a send of one message (a batch adds its count to a copy). */
  readonly attributes: Readonly<Attributes>;
  readonly options: Readonly<SpanOptions>;
  /** Bound on first use; undefined: metrics off. */
  cells: SendCells | undefined | null;
}

/** Most topics whose send shape is remembered. */
export const MAX_SEND_SHAPES = 1000;

export function createKafkaRuntime(options: KafkaInstrumentationOptions, patcher: Patcher): KafkaRuntime {
  const commonAttributes: Attributes = { [ATTR.MESSAGING_SYSTEM]: MESSAGING_SYSTEM.KAFKA };
  if (options.clientId) commonAttributes[ATTR.MESSAGING_CLIENT_ID] = options.clientId;
  const server = parseHostPort(options.brokers?.[0]);
  if (server) {
    commonAttributes[ATTR.SERVER_ADDRESS] = server.host;
    commonAttributes[ATTR.SERVER_PORT] = server.port;
  }
  return { tap: createTap(options), options, patcher, commonAttributes, listeners: new ConsumerListeners(), sendShapes: new Map() };
}

function parseHostPort(address: string | undefined): { host: string; port: number } | undefined {
  if (!address) return undefined;
  const i = address.lastIndexOf(':');
  if (i <= 0) return undefined;
  const port = Number(address.slice(i + 1));
  if (!Number.isInteger(port) || port <= 0 || port > 65535) return undefined;
  return { host: address.slice(0, i).replace(/^\[|\]$/g, ''), port };
}
