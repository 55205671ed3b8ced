import type { Matchers } from '@pact-foundation/pact';
import type { Options } from 'amqplib';
import type { AmqpInstrumentationOptions, KafkaInstrumentationOptions } from '@eda-harness/instrumentation';

/** A value in a contract: a literal (matched exactly) or a Pact matcher (type, regex, uuid, ...). */
export type MetadataValue = string | Matchers.Matcher<string>;

/** A provider state, with parameters when the setup needs them ("an order with 2 lines", {lines: 2}). */
export type ProviderStateSpec = string | { readonly name: string; readonly params?: Readonly<Record<string, string | number | boolean>> };

interface CommonExpectation {
  /** How the provider finds its message factory: keep it short and stable ("an OrderPlaced event"). */
  readonly description: string;
  /** States the provider must be in to send this message. */
  readonly states?: readonly ProviderStateSpec[];
  /** Default application/json. */
  readonly contentType?: string;
  /** Only the headers the consumer relies on; values are compared as text. */
  readonly headers?: Readonly<Record<string, MetadataValue>>;
}

/** What a Kafka consumer expects: where the record arrives, its key, headers and value. */
export interface KafkaMessageExpectation extends CommonExpectation {
  readonly topic: MetadataValue;
  readonly key?: MetadataValue;
  /** The JSON value, with Pact matchers where any value of a type/format is fine. */
  readonly value: unknown;
}

/** What a RabbitMQ consumer expects: the exchange and routing key it binds to, content type, headers, body. */
export interface AmqpMessageExpectation extends CommonExpectation {
  readonly exchange: MetadataValue;
  readonly routingKey: MetadataValue;
  readonly content: unknown;
}

/** A Pact message as Pact hands it to a consumer test (reified: matchers replaced by their examples). */
export interface PactMessage {
  readonly contents: { readonly content: unknown };
  readonly metadata: Readonly<Record<string, unknown>>;
}

export interface KafkaHandlingOptions {
  /** Consumer group the instrumentation reports (default `contract-test`). */
  readonly groupId?: string;
  readonly partition?: number;
  readonly offset?: string;
  /** Passed to instrumentKafkaConsumer: a registry or tracer provider to assert telemetry. */
  readonly instrumentation?: KafkaInstrumentationOptions;
}

export interface KafkaHandlingResult<R> {
  /** What the handler returned. */
  readonly result: R;
  /** The payload the handler received, built from the Pact message. */
  readonly payload: import('kafkajs').EachMessagePayload;
}

/** How the handler settled the delivery. */
export type AmqpSettlement =
  | { readonly kind: 'ack' }
  | { readonly kind: 'nack'; readonly requeue: boolean }
  | { readonly kind: 'reject'; readonly requeue: boolean }
  | { readonly kind: 'none' };

export interface AmqpHandlingOptions {
  /** Queue the consumer reads (default `contract-test`); it appears in spans and metrics. */
  readonly queue?: string;
  readonly deliveryTag?: number;
  /** How long to wait for the handler to ack / nack (default 5000 ms). */
  readonly settleTimeoutMs?: number;
  /** Passed to instrumentAmqp. */
  readonly instrumentation?: AmqpInstrumentationOptions;
}

export interface AmqpHandlingResult<R> {
  readonly result: R;
  readonly message: import('amqplib').ConsumeMessage;
  readonly settlement: AmqpSettlement;
  /** Anything the handler published while handling (a retry, a reply). */
  readonly published: readonly CapturedAmqpMessage[];
}

/** A Kafka record the provider's code sent, captured instead of reaching a broker. */
export interface CapturedKafkaMessage {
  readonly transport: 'kafka';
  readonly topic: string;
  readonly key: string | null;
  /** Header values as text (repeated headers joined with ", "). */
  readonly headers: Readonly<Record<string, string>>;
  readonly value: string | null;
}

/** An AMQP message the provider's code published, captured instead of reaching a broker. */
export interface CapturedAmqpMessage {
  readonly transport: 'amqp';
  readonly exchange: string;
  readonly routingKey: string;
  readonly content: Buffer;
  readonly properties: Options.Publish;
}

export type CapturedMessage = CapturedKafkaMessage | CapturedAmqpMessage;

export type StateParams = Readonly<Record<string, unknown>>;

/** Puts the provider in a named state before a message is generated (and cleans up after). */
export type ProviderStateHandler =
  | ((params: StateParams) => unknown)
  | { readonly setup?: (params: StateParams) => unknown; readonly teardown?: (params: StateParams) => unknown };

/** What a message factory learns about the interaction it produces a message for. */
export interface MessageRequest {
  readonly description: string;
  readonly states: readonly { readonly name: string; readonly params: StateParams }[];
}

/**
 * A provider's side of its message contracts: for each interaction description, how its real
 * code produces that message (captured, not sent), and how to set up each provider state.
 */
export interface MessageProviderDefinition {
  readonly provider: string;
  readonly messages: Readonly<Record<string, (request: MessageRequest) => Promise<CapturedMessage> | CapturedMessage>>;
  readonly states?: Readonly<Record<string, ProviderStateHandler>>;
}

/** Pact Broker settings; by default read from the standard PACT_BROKER_* variables. */
export interface PactBrokerOptions {
  readonly url: string;
  readonly token?: string;
  readonly username?: string;
  readonly password?: string;
  /** JSON consumer version selectors, e.g. [{ mainBranch: true }, { deployedOrReleased: true }]. */
  readonly consumerVersionSelectors?: readonly Record<string, unknown>[];
  readonly enablePending?: boolean;
  readonly includeWipPactsSince?: string;
  /** Publish results back to the broker (needs providerVersion). */
  readonly publishVerificationResult?: boolean;
  readonly providerVersion?: string;
  readonly providerVersionBranch?: string;
  readonly buildUrl?: string;
}

export interface VerifyProviderOptions {
  /** Pact files, directories or URLs (default: the `pacts` directory of the working directory). */
  readonly pacts?: readonly string[];
  /** Verify only these consumers' pacts. */
  readonly consumers?: readonly string[];
  /** Broker settings; default from the environment; `false` ignores the environment. */
  readonly broker?: PactBrokerOptions | false;
  /** Pact's own log level (default `error`): the report says what matters. */
  readonly logLevel?: 'trace' | 'debug' | 'info' | 'warn' | 'error';
  /**
   * How long a message factory (and a provider state's setup or teardown) may take before its
   * interaction fails with "the factory did not resolve within N ms" (default 10 000).
   */
  readonly factoryTimeoutMs?: number;
}

export interface Mismatch {
  /** `body`, `metadata`, or `error` when no message could be produced at all. */
  readonly kind: 'body' | 'metadata' | 'error';
  /** JSONPath into the body (`$.payload.orderId`) or the metadata key (`kafka_topic`). */
  readonly where: string;
  readonly message: string;
  readonly expected?: string;
  readonly actual?: string;
}

export interface InteractionResult {
  readonly consumer: string;
  readonly description: string;
  readonly states: readonly string[];
  readonly passed: boolean;
  /** A pending pact's failure does not fail the build (Pact's "pending pacts"). */
  readonly pending: boolean;
  readonly mismatches: readonly Mismatch[];
}

/** An interaction in a provider's pacts that is not a message eda-harness can produce (an HTTP request, a synchronous message). */
export interface SkippedInteraction {
  readonly consumer: string;
  readonly description: string;
  /** The pact's interaction type: `Synchronous/HTTP`, `Synchronous/Messages`, … */
  readonly type: string;
  /** Why it was not verified, for the report. */
  readonly reason: string;
}

export interface VerificationReport {
  readonly provider: string;
  /** True when every non-pending interaction passed and at least one was verified. */
  readonly passed: boolean;
  /** Where the pacts came from (files, or the broker URL). */
  readonly sources: readonly string[];
  readonly interactions: readonly InteractionResult[];
  /** Interactions not verified because they are not asynchronous messages (HTTP, synchronous messages). */
  readonly skipped: readonly SkippedInteraction[];
  /** Failures not tied to one interaction (a pact that could not be fetched or read, a broker error). */
  readonly problems: readonly string[];
}

/** One pact file, summarised for `contracts list`. */
export interface PactSummary {
  readonly file: string;
  readonly consumer: string;
  readonly provider: string;
  readonly specification: string;
  readonly interactions: readonly {
    readonly description: string;
    readonly type: string;
    readonly states: readonly string[];
    /** `kafka orders.placed key=...` or `amqp notifications/email.send`, from the metadata; `http GET /path` for an HTTP interaction. */
    readonly transport: string;
  }[];
}

export interface MessagePactOptions {
  readonly consumer: string;
  readonly provider: string;
  /** Where the pact file is written (default `$PACT_DIR`, else `pacts/` in the working directory). */
  readonly dir?: string;
  /**
   * Start from an empty pact file (default true), so an interaction removed from the tests also
   * leaves the contract. Use one MessagePact per consumer-provider pair per test run.
   */
  readonly fresh?: boolean;
  readonly logLevel?: 'trace' | 'debug' | 'info' | 'warn' | 'error';
}

export interface KafkaInteraction {
  /**
   * Runs `handler` (the consumer's real kafkajs eachMessage handler) on the contract's example
   * message, instrumented as in production. The pact file gains the interaction only if the
   * handler resolves: a handler that throws on the message fails the test and writes nothing.
   */
  handledBy<R>(handler: (payload: import('kafkajs').EachMessagePayload) => Promise<R> | R, options?: KafkaHandlingOptions): Promise<KafkaHandlingResult<R>>;
}

export interface AmqpInteraction {
  /**
   * Runs the consumer's real consume callback (built by `factory` from the channel it settles
   * on) on the contract's example message. Unless `requireAck` is false, a handler that nacks,
   * rejects or never settles the message fails the test: a valid message must be accepted.
   */
  handledBy<R>(factory: (channel: import('amqplib').Channel) => (msg: import('amqplib').ConsumeMessage | null) => Promise<R> | R, options?: AmqpHandlingOptions & { readonly requireAck?: boolean }): Promise<AmqpHandlingResult<R>>;
}

/** A consumer's message contract with one provider, written as a V4 pact file. */
export interface MessagePact {
  /** The pact file this contract writes. */
  readonly file: string;
  expectKafkaMessage(expectation: KafkaMessageExpectation): KafkaInteraction;
  expectAmqpMessage(expectation: AmqpMessageExpectation): AmqpInteraction;
}
