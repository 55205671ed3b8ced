// Consumer side: declare a message contract and prove it with the real handler.
export { messagePact } from './consumer/message-pact';
export { eventEnvelope } from './consumer/envelope-matchers';
export type { EnvelopeSpec } from './consumer/envelope-matchers';
// Provider side: run the real producing code without a broker, verify it against the pacts.
export { createMessageCapture } from './provider/message-capture';
export type { MessageCapture, MessageCaptureOptions } from './provider/message-capture';
export { verifyProvider } from './provider/verify-provider';
export { formatReport } from './provider/format-report';
// Pact files, as `eda-harness contracts list` shows them.
export { defaultPactDir } from './consumer/default-pact-dir';
export { findPactFiles } from './find-pact-files';
export { readPact } from './read-pact';
export { readPacts } from './provider/plan-pacts';
export type {
  AmqpHandlingOptions,
  AmqpHandlingResult,
  AmqpInteraction,
  AmqpMessageExpectation,
  AmqpSettlement,
  CapturedAmqpMessage,
  CapturedKafkaMessage,
  CapturedMessage,
  InteractionResult,
  KafkaHandlingOptions,
  KafkaHandlingResult,
  KafkaInteraction,
  KafkaMessageExpectation,
  MessagePact,
  MessagePactOptions,
  MessageProviderDefinition,
  MessageRequest,
  MetadataValue,
  Mismatch,
  PactBrokerOptions,
  PactSummary,
  SkippedInteraction,
  ProviderStateHandler,
  ProviderStateSpec,
  StateParams,
  VerificationReport,
  VerifyProviderOptions,
} from './types';
