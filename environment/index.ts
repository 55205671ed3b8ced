export { Environment } from './environment';
export type * from './types';
export { ensurePrometheus, ensureDockerCompose, provisionAll } from './provision';
export { isAlive } from './managed-process';
export { allocatePorts } from './ports';
export { readCurrentState, writeCurrentState, clearCurrentState, endRecordedProcesses } from './state';
