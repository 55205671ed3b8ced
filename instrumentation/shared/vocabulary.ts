/**
 * The names of @eda-harness/semconv the instrumentation uses, as plain module constants.
 *
 * semconv's index re-exports its modules (`export *`), which CommonJS output turns into one getter
 * per name; the wrappers read ATTR, SPAN_NAME, OPERATION_NAME... several times per message, each
 * read a getter call. Read once here instead: 2.97 → 2.82 µs per AMQP delivery at 100 % sampling
 * (micro-benchmark, 5 runs each). The values are the same objects; semconv stays the one place
 * they are declared.
 */
import * as semconv from '@eda-harness/semconv';

export const ATTR = semconv.ATTR;
export const LABEL = semconv.LABEL;
export const HEADER = semconv.HEADER;
export const METRIC = semconv.METRIC;
export const SPAN_NAME = semconv.SPAN_NAME;
export const MESSAGING_SYSTEM = semconv.MESSAGING_SYSTEM;
export const OPERATION_NAME = semconv.OPERATION_NAME;
export const OPERATION_TYPE = semconv.OPERATION_TYPE;
export const ERROR_TYPE = semconv.ERROR_TYPE;
export const E2E_STAGE = semconv.E2E_STAGE;
export const DLQ_REASON = semconv.DLQ_REASON;
export const KAFKA_CONSUMER_EVENT = semconv.KAFKA_CONSUMER_EVENT;
export const AMQP_DEFAULT_EXCHANGE = semconv.AMQP_DEFAULT_EXCHANGE;
export const MAX_HEADER_KEYS_SCANNED = semconv.MAX_HEADER_KEYS_SCANNED;
export const MAX_HEADER_VALUE_BYTES = semconv.MAX_HEADER_VALUE_BYTES;
export const DEFAULT_MAX_SERIES_PER_METRIC = semconv.DEFAULT_MAX_SERIES_PER_METRIC;
export const LABEL_OVERFLOW_VALUE = semconv.LABEL_OVERFLOW_VALUE;
export const RESOURCE_LABEL = semconv.RESOURCE_LABEL;
export const SERVICE_INFO_METRIC = semconv.SERVICE_INFO_METRIC;
export const destinationLabel = semconv.destinationLabel;
export const isAnonymousQueue = semconv.isAnonymousQueue;
export const isTemporaryQueue = semconv.isTemporaryQueue;
export const rabbitMqConsumeDestination = semconv.rabbitMqConsumeDestination;
export const rabbitMqPublishDestination = semconv.rabbitMqPublishDestination;
export const rabbitMqPublishLabel = semconv.rabbitMqPublishLabel;
