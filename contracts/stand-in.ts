import type { Logger } from 'kafkajs';
import { UnsupportedError } from '@eda-harness/core';

/**
 * What a broker-less stand-in (capturing producer, capturing channel, the consumer that runs one
 * handler) does when code under contract test calls something it cannot honour: fail at once,
 * naming the call and what to do instead, rather than pretend it worked.
 */
export function unsupported(standIn: string, call: string, instead: string): never {
  throw new UnsupportedError(`${call} is not supported by the ${standIn}: contract tests run without a broker`, { hint: instead });
}

/** A kafkajs logger that drops everything: the stand-ins have nothing to log. */
export function silentKafkaLogger(): Logger {
  const logger: Logger = {
    info: () => undefined,
    error: () => undefined,
    warn: () => undefined,
    debug: () => undefined,
    namespace: () => logger,
    setLogLevel: () => undefined,
  };
  return logger;
}
