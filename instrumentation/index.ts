// The public API of @eda-harness/instrumentation. Everything else in this package is internal;
// telemetry names (attributes, metrics, labels, headers) are @eda-harness/semconv's.

// Explicit wrappers (any module system, bundlers included) and what undoes them.
export { instrumentKafka, uninstrumentKafka, kafkaHandle, instrumentKafkaProducer, instrumentKafkaConsumer } from './kafka/wrappers';
export { instrumentAmqp, uninstrumentAmqp, amqpHandle } from './amqp/wrappers';
// Per-message tracing inside an instrumented eachBatch.
export { kafkaMessageContext, traceKafkaMessage } from './kafka/batch-message';

// OpenTelemetry Instrumentation classes, for registerInstrumentations (CommonJS require hooks).
export { KafkaJsInstrumentation } from './kafka/kafkajs-instrumentation';
export type { KafkaJsInstrumentationConfig } from './kafka/kafkajs-instrumentation';
export { AmqplibInstrumentation } from './amqp/amqplib-instrumentation';
export type { AmqplibInstrumentationConfig } from './amqp/amqplib-instrumentation';

// SDK set-up, and dead-lettering the wrappers cannot see.
export { startTelemetry } from './start-telemetry';
export type { TelemetryOptions, TelemetryHandle } from './start-telemetry';
export { recordDeadLetter } from './dead-letter';
export type { DeadLetterEvent } from './dead-letter';
// The service name the dashboards join onto this package's metrics, for SDKs set up without startTelemetry.
export { registerServiceInfo } from './telemetry/service-info';

// Reading trace context and headers of a message by hand (kafkajs Buffers, AMQP tables), never throwing.
export { extractContext, readHeader } from './shared/header-codec';

export type {
  AmqpConsumeHookInfo,
  AmqpInstrumentationOptions,
  AmqpPublishHookInfo,
  CommonInstrumentationOptions,
  InstrumentationHandle,
  InstrumentationLogger,
  KafkaConsumerHookInfo,
  KafkaInstrumentationOptions,
  KafkaProducerHookInfo,
  ProcessContextMode,
  ErrorMessageMode,
} from './types';
