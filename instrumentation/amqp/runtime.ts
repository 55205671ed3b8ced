import type { Attributes, Span, SpanContext, SpanOptions } from '@opentelemetry/api';
import type { DestinationKind } from '@eda-harness/semconv';
import type { SendCells } from '../shared/send-cells';
import { ATTR, MESSAGING_SYSTEM } from '../shared/vocabulary';
import type { ConsumerCells } from '../shared/consumer-cells';
import type { MetricLabels } from '../shared/metrics';
import type { Patcher } from '../shared/patcher';
import { createTap } from '../shared/tap';
import type { Tap } from '../shared/tap';
import type { AmqpInstrumentationOptions } from '../types';
import { createDestinations } from './destinations';
import type { Destinations } from './destinations';
import { LiveChannels } from './live-channels';
import type { PendingDeliveries } from './pending';

/** RabbitMQ's own consumer_timeout: a delivery unacknowledged this long gets its channel closed. */
export const DEFAULT_SETTLE_TIMEOUT_MS = 1_800_000;
const DEFAULT_MAX_PENDING = 10_000;

/** What the channel wrappers of one AMQP instrumenter share (a model and all its channels, or one channel). */
export interface AmqpRuntime {
  readonly tap: Tap;
  readonly options: AmqpInstrumentationOptions;
  readonly patcher: Patcher;
  readonly destinations: Destinations;
  /** Open instrumented channels, held weakly: the sweep and restore() reach them through it. */
  readonly channels: LiveChannels<ChannelState>;
  readonly settleTimeoutMs: number;
  readonly maxPendingDeliveries: number;
  /** The one timer that sweeps unsettled deliveries of every channel; runs only while some are tracked. */
  readonly sweeper: { timer: NodeJS.Timeout | undefined };
}

/** How a delivery was settled: by the application, by amqplib (noAck), or not at all. */
export type Settlement = 'ack' | 'nack' | 'reject' | 'auto' | 'none';

/** A delivery handed to the application and not yet settled. */
export interface Pending {
  readonly deliveryTag: number;
  readonly queue: string;
  /** `process` (consume: in flight until settled, a process duration) or `receive` (get: its settle is counted). */
  readonly operation: 'process' | 'receive';
  readonly labels: MetricLabels;
  readonly startedPerf: number;
  readonly startedMs: number;
  readonly producedAt: number | undefined;
  /** The process span while it is open; undefined once it ended (settle, handler failure, timeout) and for get. */
  span: Span | undefined;
  /** The span's context, kept for exemplars once the span has ended. */
  readonly spanContext: SpanContext | undefined;
  /** Its outcome has been counted (a handler failure or a settle): a later settle counts only a DLQ event. */
  counted: boolean;
  /** consume: the queue's bound metric series (a success is counted through them). */
  readonly cells?: ConsumerCells | undefined;
  /** consume: the span's context when sampled (exemplars), else undefined. */
  readonly exemplar?: SpanContext | undefined;
}

/** One instrumented channel: its unsettled deliveries and its peer. No reference to the channel itself. */
export interface ChannelState {
  readonly pending: PendingDeliveries;
  readonly server: Attributes;
  /** amqplib's callback API (`amqplib/callback_api`): results come through callbacks, methods return the channel. */
  readonly callbackApi: boolean;
  /** Set by the first 'close' listener, before amqplib fails the unconfirmed publishes. */
  closed: boolean;
  /** Exclusive queues declared here, forgotten as temporary when the channel closes. */
  declared: string[] | undefined;
  removeListeners: () => void;
  /** Per exchange, per routing key: what every publish there shares (bounded; created on first publish). */
  publishShapes?: Map<string, Map<string, PublishShape>>;
  publishShapeCount?: number;
}

/** What every publish of one channel to one exchange and routing key shares: computed once. */
export interface PublishShape {
  readonly kind: DestinationKind;
  readonly name: string;
  readonly attributes: Readonly<Attributes>;
  readonly options: Readonly<SpanOptions>;
  /** The metric label of the destination (the exchange, or the queue on the default exchange). */
  readonly label: string;
  cells: SendCells | undefined | null;
}

/** Attributes every RabbitMQ span starts with: system, operation, and the channel's peer. */
export function channelSpanAttributes(state: ChannelState, operationName: string, operationType: string): Attributes {
  return {
    [ATTR.MESSAGING_SYSTEM]: MESSAGING_SYSTEM.RABBITMQ,
    [ATTR.MESSAGING_OPERATION_NAME]: operationName,
    [ATTR.MESSAGING_OPERATION_TYPE]: operationType,
    ...state.server,
  };
}

export function createAmqpRuntime(options: AmqpInstrumentationOptions, patcher: Patcher): AmqpRuntime {
  const timeout = options.settleTimeoutMs;
  const max = options.maxPendingDeliveries;
  return {
    tap: createTap(options),
    options,
    patcher,
    destinations: createDestinations(options.deadLetterExchanges),
    channels: new LiveChannels(),
    settleTimeoutMs: typeof timeout === 'number' && timeout > 0 ? timeout : DEFAULT_SETTLE_TIMEOUT_MS,
    maxPendingDeliveries: typeof max === 'number' && max >= 1 ? Math.floor(max) : DEFAULT_MAX_PENDING,
    sweeper: { timer: undefined },
  };
}

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  try {
    return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
  } catch {
    return false; // a throwing `then` getter: amqplib never looks at it either
  }
}
