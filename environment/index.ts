export { Environment } from './environment';
export type * from './types';
export { ensurePrometheus, ensureDockerCompose, ensureChromium, ensureJaeger, provisionAll } from './provision';
export { exitWhenGone } from './install';
export { jaegerQuery, parseOtlpTraces, parseTracesResponse, parseServicesResponse, traceShortfall, JaegerResponseError } from './jaeger-query';
export type { JaegerQuery, TraceSpan, SpanKindName, SpanStatusName, WaitForTraceOptions, FindTracesOptions } from './jaeger-query';
export { isAlive } from './managed-process';
export { allocatePorts, releasePorts } from './ports';
export {
  readCurrentState,
  readEnvironmentState,
  writeCurrentState,
  clearCurrentState,
  checkRecordedProcesses,
  refuseStaleState,
  endRecordedProcesses,
  removeRunDirectory,
  ensureRunsDirectory,
  runsDirectory,
  currentPointer,
  StateFileError,
} from './state';
export type { EnvironmentState, ProcessCheck } from './state';
export type { Ownership } from './own-process';
export { PROVIDER_CHOICES, checkProviderChoice } from './select-provider';
export { checkKafkaVersion } from './provision';
export { KAFKA_SECURITY_MODES, checkKafkaSecurity } from './native/kafka-security';
