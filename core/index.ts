import './dispose';
export { EdaHarnessError, ConfigError, PrerequisiteError, ProvisionError, ProcessError, BrokerUnreachableError, TimeoutError, UnsupportedError, ToxiproxyError, ContractError, errorMessage } from './errors';
export type { ErrorCode, EdaHarnessErrorOptions } from './errors';
export { waitFor } from './wait-for';
export type { WaitForOptions } from './wait-for';
export { stderrProgress, silentProgress } from './progress';
export type { ProgressSink } from './progress';
export { writeGeneratedFiles } from './write-generated-files';
