import type { Attributes, Span } from '@opentelemetry/api';
import type { Channel } from 'amqplib';
import { ATTR, MESSAGING_SYSTEM } from '@eda-harness/semconv';
import type { MetricLabels } from '../shared/metrics';
import type { Patcher } from '../shared/patcher';
import { createTap } from '../shared/tap';
import type { Tap } from '../shared/tap';
import type { AmqpInstrumentationOptions } from '../types';

/** What the channel wrappers of one AMQP instrumenter share (a model and all its channels, or one channel). */
export interface AmqpRuntime {
  readonly tap: Tap;
  readonly options: AmqpInstrumentationOptions;
  readonly patcher: Patcher;
  /** queue → dead-letter target label, from options and from assertQueue calls we observed. */
  readonly deadLetter: Map<string, string>;
  readonly channels: Set<ChannelState>;
}

/** How a delivery was settled: by the application, by amqplib (noAck), or not at all. */
export type Settlement = 'ack' | 'nack' | 'reject' | 'auto' | 'none';

/** A delivery handed to the application and not yet settled. */
export interface Pending {
  readonly deliveryTag: number;
  readonly queue: string;
  readonly labels: MetricLabels;
  readonly startedPerf: number;
  readonly startedMs: number;
  readonly producedAt: number | undefined;
  /** Undefined for `get`: the receive span has ended already; the record is kept for settle metrics. */
  span: Span | undefined;
  /** The handler failed: span and metrics are done, the record waits only for a settle (DLQ count). */
  finished: boolean;
}

/** One instrumented channel: its unsettled deliveries, its peer, its sweep timer. */
export interface ChannelState {
  readonly channel: Channel;
  readonly pending: Map<number, Pending>;
  readonly server: Attributes;
  timer: NodeJS.Timeout | undefined;
  removeListeners: () => void;
}

/** Attributes every RabbitMQ span starts with: system, operation, destination, and the channel's peer. */
export function channelSpanAttributes(state: ChannelState, operationName: string, operationType: string, destination: string): Attributes {
  return {
    [ATTR.MESSAGING_SYSTEM]: MESSAGING_SYSTEM.RABBITMQ,
    [ATTR.MESSAGING_OPERATION_NAME]: operationName,
    [ATTR.MESSAGING_OPERATION_TYPE]: operationType,
    [ATTR.MESSAGING_DESTINATION_NAME]: destination,
    ...state.server,
  };
}

export function createAmqpRuntime(options: AmqpInstrumentationOptions, patcher: Patcher): AmqpRuntime {
  return { tap: createTap(options), options, patcher, deadLetter: new Map(Object.entries(options.deadLetterExchanges ?? {})), channels: new Set() };
}
