import { SpanStatusCode } from '@opentelemetry/api';
import type { Span } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Registry } from 'prom-client';
import { countProcessed, countReceived, countSent, countSettled, endSpan, finishOperation, leaveFlight, observeProcess, observeSettled } from '../../../instrumentation/shared/operation';
import type { Outcome } from '../../../instrumentation/shared/operation';
import { createTap, errorType, failSpan } from '../../../instrumentation/shared/tap';
import type { Tap } from '../../../instrumentation/shared/tap';
import type { CommonInstrumentationOptions } from '../../../instrumentation/types';
import { METRIC } from '../../../semconv/index';
import { metricValue } from './metric-values';
import { useOtel } from './otel-fixture';

const otel = useOtel();

const LABELS = Object.freeze({ messaging_system: 'kafka', messaging_operation_name: 'process', messaging_destination_name: 'orders', messaging_consumer_group_name: 'billing' });

function tapFor(options: Partial<CommonInstrumentationOptions> = {}): { tap: Tap; registry: Registry; warnings: unknown[] } {
  const registry = new Registry();
  const warnings: unknown[] = [];
  const tap = createTap({ registry, logger: { warn: (message, error) => warnings.push([message, error]) }, ...options });
  return { tap, registry, warnings };
}

/** An Error whose own `prop` getters throw (define `stack` first: defining it formats the stack, which reads `name`). */
function errorWithThrowingGetter(...props: string[]): Error {
  const err = new Error('secret PIN=1234');
  for (const prop of props) {
    Object.defineProperty(err, prop, {
      get() {
        throw new Error(`${prop} getter`);
      },
    });
  }
  return err;
}

function revoked<T extends object>(target: T): T {
  const { proxy, revoke } = Proxy.revocable(target, {});
  revoke();
  return proxy;
}

/** Values handlers really reject with, found by fuzzing: none of them may leave a span open or a gauge up. */
const HOSTILE: Array<[string, () => unknown]> = [
  ['undefined', () => undefined],
  ['null', () => null],
  ['a null-prototype object', () => Object.create(null)],
  ['an Error whose message getter throws', () => errorWithThrowingGetter('message')],
  ['an Error whose name, constructor and stack getters throw', () => errorWithThrowingGetter('stack', 'name', 'constructor')],
  ['a revoked Proxy', () => revoked({})],
  ['a revoked Proxy of an Error', () => revoked(new Error('x'))],
  ['a string', () => 'plain string'],
  ['a symbol', () => Symbol('s')],
];

/** One process operation the way the consumers run it: received, then finished with `outcome`. */
function processOnce(tap: Tap, outcome: Outcome): void {
  const span = tap.tracer.startSpan('process orders');
  tap.record((m) => countReceived(m, LABELS, 1, 0));
  finishOperation(tap, span, performance.now(), outcome, (m, finished) => countProcessed(m, LABELS, 1, finished));
}

function onlySpan(): ReadableSpan {
  const spans = otel.spans('process orders');
  expect(spans).toHaveLength(1);
  return spans[0] as ReadableSpan;
}

describe('operation: failures whatever was thrown', () => {
  it.each(HOSTILE)('a failure with %s ends the span with ERROR and counts it processed as failed', async (_name, make) => {
    const { tap, registry } = tapFor();
    expect(() => processOnce(tap, { error: make(), failed: true })).not.toThrow();
    const span = onlySpan();
    expect(span.ended).toBe(true);
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(typeof span.attributes['error.type']).toBe('string');
    expect(await metricValue(registry, METRIC.IN_FLIGHT.name)).toBe(0);
    // Consumed at delivery, whatever processing does: no error_type (metricValue reads a missing label as 'undefined').
    expect(await metricValue(registry, METRIC.CONSUMED_MESSAGES.name, { error_type: 'undefined' })).toBe(1);
    expect(await metricValue(registry, METRIC.MESSAGES_PROCESSED.name)).toBe(1);
    expect(await metricValue(registry, METRIC.MESSAGES_PROCESSED.name, { error_type: String(span.attributes['error.type']) })).toBe(1);
    expect(await metricValue(registry, METRIC.PROCESS_DURATION.name, { error_type: String(span.attributes['error.type']) }, `${METRIC.PROCESS_DURATION.name}_count`)).toBe(1);
  });

  it('a rejection with no reason is a failure: error.type _OTHER, a fixed status description', async () => {
    const { tap, registry } = tapFor();
    const span = tap.tracer.startSpan('process orders');
    let settled: [unknown, boolean] | undefined;
    await expect(observeSettled(() => Promise.reject(), (err, failed) => (settled = [err, failed]))).rejects.toBeUndefined();
    expect(settled).toEqual([undefined, true]);
    const [error, failed] = settled as [unknown, boolean];
    finishOperation(tap, span, performance.now(), { error, failed }, (m, finished) => countProcessed(m, LABELS, 1, finished));
    const ended = onlySpan();
    expect(ended.attributes['error.type']).toBe('_OTHER');
    expect(ended.status).toEqual({ code: SpanStatusCode.ERROR, message: 'failed without a reason' });
    expect(ended.events).toHaveLength(0);
    expect(await metricValue(registry, METRIC.MESSAGES_PROCESSED.name, { error_type: '_OTHER' })).toBe(1);
  });

  it('observeSettled says failed for a synchronous throw of undefined and not for a value', async () => {
    const calls: Array<[unknown, boolean]> = [];
    expect(() =>
      observeSettled(
        () => {
          throw undefined;
        },
        (err, failed) => calls.push([err, failed]),
      ),
    ).toThrow();
    await expect(observeSettled(() => 42, (err, failed) => calls.push([err, failed]))).resolves.toBe(42);
    expect(calls).toEqual([
      [undefined, true],
      [undefined, false],
    ]);
  });

  it('a success ends the span unset and counts processed without error_type', async () => {
    const { tap, registry } = tapFor();
    processOnce(tap, {});
    expect(onlySpan().status.code).toBe(SpanStatusCode.UNSET);
    const text = await registry.getSingleMetricAsString(METRIC.MESSAGES_PROCESSED.name);
    expect(text).toContain('eda_messages_processed_total{messaging_system="kafka",messaging_operation_name="process",messaging_destination_name="orders",messaging_consumer_group_name="billing"} 1');
  });

  it('ends the span and records even when the span itself throws while failing', async () => {
    const { tap, registry } = tapFor();
    const end = jest.fn();
    const throwing = () => {
      throw new Error('broken span');
    };
    const span = { setAttribute: throwing, setStatus: throwing, recordException: throwing, end, spanContext: throwing } as unknown as Span;
    expect(() => finishOperation(tap, span, performance.now(), { error: new TypeError('x') }, (m, f) => countProcessed(m, LABELS, 1, f))).not.toThrow();
    expect(end).toHaveBeenCalledTimes(1);
    expect(await metricValue(registry, METRIC.MESSAGES_PROCESSED.name, { error_type: 'TypeError' })).toBe(1);
    const endSpanOnly = jest.fn(throwing);
    expect(() => endSpan({ ...span, end: endSpanOnly } as unknown as Span, { failed: true })).not.toThrow();
    expect(endSpanOnly).toHaveBeenCalledTimes(1);
  });
});

describe('errorType', () => {
  class PaymentDeclined extends Error {}
  it.each<[string, unknown, string]>([
    ['a TypeError', new TypeError('x'), 'TypeError'],
    ['a subclass', new PaymentDeclined('x'), 'PaymentDeclined'],
    ['an Error whose constructor getter throws (falls back to name)', Object.assign(errorWithThrowingGetter('constructor'), { name: 'Named' }), 'Named'],
    ['an Error whose constructor and name getters throw', errorWithThrowingGetter('constructor', 'name'), '_OTHER'],
    ['a null-prototype object', Object.create(null), '_OTHER'],
    ['a revoked Proxy', revoked(new Error('x')), '_OTHER'],
    ['undefined', undefined, '_OTHER'],
  ])('%s', (_name, err, type) => {
    expect(errorType(err)).toBe(type);
  });
});

describe('errorMessages', () => {
  async function failWith(options: Partial<CommonInstrumentationOptions>, err: unknown): Promise<ReadableSpan> {
    const { tap } = tapFor(options);
    const span = tap.tracer.startSpan('process orders');
    finishOperation(tap, span, performance.now(), { error: err, failed: true }, () => undefined);
    return onlySpan();
  }

  it('record (default): the message in the status and the exception event, with the stack', async () => {
    const err = new SyntaxError('Unexpected token in JSON: PIN=1234');
    const span = await failWith({}, err);
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: err.message });
    expect(span.events[0]?.attributes).toEqual({ 'exception.type': 'SyntaxError', 'exception.message': err.message, 'exception.stacktrace': err.stack });
  });

  it('omit: the status says error.type; the exception event carries only exception.type', async () => {
    const span = await failWith({ errorMessages: 'omit' }, new SyntaxError('PIN=1234'));
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'SyntaxError' });
    expect(span.events).toHaveLength(1);
    expect(span.events[0]?.attributes).toEqual({ 'exception.type': 'SyntaxError' });
    expect(JSON.stringify({ status: span.status, events: span.events })).not.toContain('PIN');
  });

  it('omit also drops what a non-Error value would have said', async () => {
    const span = await failWith({ errorMessages: 'omit' }, 'PIN=1234');
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: '_OTHER' });
  });

  it('a function: its result is the message, with no stack trace (it quotes the raw message)', async () => {
    const span = await failWith({ errorMessages: (e) => `redacted ${errorType(e)}` }, new SyntaxError('PIN=1234'));
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'redacted SyntaxError' });
    expect(span.events[0]?.attributes).toEqual({ 'exception.type': 'SyntaxError', 'exception.message': 'redacted SyntaxError' });
  });

  it.each<[string, (e: unknown) => string]>([
    [
      'throws',
      () => {
        throw new Error('redactor bug');
      },
    ],
    ['returns a non-string', () => 42 as unknown as string],
  ])('a function that %s: omit, never the raw text', async (_name, fn) => {
    const span = await failWith({ errorMessages: fn }, new SyntaxError('PIN=1234'));
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'SyntaxError' });
    expect(JSON.stringify({ status: span.status, events: span.events })).not.toContain('PIN');
  });

  it('failSpan and endSpan take the describer from the tap', () => {
    const { tap } = tapFor({ errorMessages: 'omit' });
    const a = tap.tracer.startSpan('process orders');
    failSpan(a, new Error('PIN=1234'), undefined, tap.describeError);
    a.end();
    expect(onlySpan().status.message).toBe('Error');
    otel.reset();
    const b = tap.tracer.startSpan('process orders');
    expect(endSpan(b, { error: new RangeError('PIN=1234') }, tap.describeError)).toBe('RangeError');
    expect(onlySpan().status.message).toBe('RangeError');
  });
});

describe('counting helpers', () => {
  it('count delivery, per-message outcomes, flight and duration separately', async () => {
    const { tap, registry } = tapFor();
    const span = tap.tracer.startSpan('process orders');
    tap.record((m) => countReceived(m, LABELS, 5, 2));
    const finished = finishOperation(tap, span, performance.now(), {}, (m, f) => {
      countSettled(m, LABELS, 2, undefined);
      countSettled(m, LABELS, 1, 'TypeError');
      leaveFlight(m, LABELS, 5);
      observeProcess(m, LABELS, f);
    });
    expect(finished.type).toBeUndefined();
    expect(await metricValue(registry, METRIC.CONSUMED_MESSAGES.name, { messaging_operation_name: 'process' })).toBe(5);
    expect(await metricValue(registry, METRIC.REDELIVERIES.name)).toBe(2);
    expect(await metricValue(registry, METRIC.IN_FLIGHT.name)).toBe(0);
    expect(await metricValue(registry, METRIC.MESSAGES_PROCESSED.name)).toBe(3);
    expect(await metricValue(registry, METRIC.MESSAGES_PROCESSED.name, { error_type: 'TypeError' })).toBe(1);
    expect(await metricValue(registry, METRIC.PROCESS_DURATION.name, { messaging_operation_name: 'process' }, `${METRIC.PROCESS_DURATION.name}_count`)).toBe(1);
  });

  it('countSent labels the sent counter with the operation name', async () => {
    const { tap, registry } = tapFor();
    const span = tap.tracer.startSpan('send orders');
    finishOperation(tap, span, performance.now(), {}, (m, f) => countSent(m, 'kafka', 'orders', 'send', 3, f));
    expect(await metricValue(registry, METRIC.SENT_MESSAGES.name, { messaging_operation_name: 'send', messaging_destination_name: 'orders' })).toBe(3);
    expect(await metricValue(registry, METRIC.OPERATION_DURATION.name, { messaging_operation_name: 'send' }, `${METRIC.OPERATION_DURATION.name}_count`)).toBe(1);
  });
});
