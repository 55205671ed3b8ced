/**
 * Every error eda-harness throws is an {@link EdaHarnessError}: one root class carrying a stable
 * `code` (for programs), `retriable` (may the same call succeed later?), the underlying `cause`,
 * and a `hint` telling a human what to do next. Callers can branch on `code` instead of parsing
 * messages.
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'PREREQUISITE_MISSING'
  | 'PROVISION_FAILED'
  | 'PROCESS_FAILED'
  | 'NOT_READY'
  | 'TIMEOUT'
  | 'UNSUPPORTED'
  | 'TOXIPROXY_API'
  | 'STATE_NOT_FOUND'
  | 'BROKER_UNREACHABLE'
  | 'HTTP_REQUEST'
  | 'CONTRACT_INVALID';

export interface EdaHarnessErrorOptions {
  readonly retriable?: boolean;
  readonly cause?: unknown;
  readonly hint?: string;
}

export class EdaHarnessError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: EdaHarnessErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable ?? false;
    this.hint = options.hint;
  }

  /** Message plus hint, the way the CLI prints it. */
  describe(): string {
    return this.hint ? `${this.message}\n  → ${this.hint}` : this.message;
  }
}

/** Bad or missing configuration given by the user. */
export class ConfigError extends EdaHarnessError {
  constructor(message: string, options: EdaHarnessErrorOptions = {}) {
    super('CONFIG_INVALID', message, options);
  }
}

/** A tool the harness needs (Java, Maven, Go, apt, …) is absent and cannot be installed from here. */
export class PrerequisiteError extends EdaHarnessError {
  constructor(message: string, options: EdaHarnessErrorOptions = {}) {
    super('PREREQUISITE_MISSING', message, options);
  }
}

/** An install step (apt-get, Maven, go install) ran and failed. */
export class ProvisionError extends EdaHarnessError {
  constructor(message: string, options: EdaHarnessErrorOptions = {}) {
    super('PROVISION_FAILED', message, options);
  }
}

/** A process we started exited unexpectedly or could not be started; `logFile` holds its output. */
export class ProcessError extends EdaHarnessError {
  readonly logFile: string | undefined;
  constructor(message: string, options: EdaHarnessErrorOptions & { logFile?: string } = {}) {
    super('PROCESS_FAILED', message, options);
    this.logFile = options.logFile;
  }
}

/** A broker did not accept connections (down, wrong address, wrong credentials). */
export class BrokerUnreachableError extends EdaHarnessError {
  constructor(message: string, options: EdaHarnessErrorOptions = {}) {
    super('BROKER_UNREACHABLE', message, { retriable: true, ...options });
  }
}

/** A service is not serving yet: what a readiness probe throws while it starts (retriable). */
export class NotReadyError extends EdaHarnessError {
  constructor(message: string, options: EdaHarnessErrorOptions = {}) {
    super('NOT_READY', message, { retriable: true, ...options });
  }
}

/** A condition polled by {@link waitFor} did not hold in time. */
export class TimeoutError extends EdaHarnessError {
  constructor(message: string, options: EdaHarnessErrorOptions = {}) {
    super('TIMEOUT', message, { retriable: true, ...options });
  }
}

/** The operation does not exist for this provider (for example SIGSTOP on an external cluster). */
export class UnsupportedError extends EdaHarnessError {
  constructor(message: string, options: EdaHarnessErrorOptions = {}) {
    super('UNSUPPORTED', message, options);
  }
}

/**
 * An HTTP call (see `requestJson`) did not answer in time, could not connect, or answered with a
 * non-2xx status (`status`, and the start of the body in `body`). Retriable unless the server
 * refused the request itself (4xx other than 408 and 429).
 */
export class HttpRequestError extends EdaHarnessError {
  readonly status: number | undefined;
  readonly body: string | undefined;
  constructor(message: string, options: EdaHarnessErrorOptions & { status?: number; body?: string } = {}) {
    super('HTTP_REQUEST', message, options);
    this.status = options.status;
    this.body = options.body;
  }
}

/** Toxiproxy's HTTP API answered with an error. */
export class ToxiproxyError extends EdaHarnessError {
  constructor(message: string, options: EdaHarnessErrorOptions = {}) {
    super('TOXIPROXY_API', message, options);
  }
}

/**
 * An environment failed to start and was torn down. `cause` is the error that stopped it; its `code`,
 * `hint` and `retriable` are carried over, so programs branch on this error as on the cause. `logFile`
 * is the log of the process that failed (when one did), `runDir` holds the logs of every process.
 */
export class EnvironmentStartError extends EdaHarnessError {
  readonly runDir: string;
  readonly logFile: string | undefined;
  constructor(message: string, options: EdaHarnessErrorOptions & { code: ErrorCode; runDir: string; logFile?: string | undefined }) {
    super(options.code, message, options);
    this.runDir = options.runDir;
    this.logFile = options.logFile;
  }
}

/** A message contract cannot be evaluated: no pact files, an unreadable pact, a provider definition missing. */
export class ContractError extends EdaHarnessError {
  constructor(message: string, options: EdaHarnessErrorOptions = {}) {
    super('CONTRACT_INVALID', message, options);
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
