export { Environment, stopAllEnvironments, defaultRunDir } from './environment';
export type * from './types';
export { ensureKafka, ensureRabbitMq, ensureToxiproxy, ensurePrometheus, ensureDockerCompose, provisionAll, kafkaVersion, DEFAULT_KAFKA_VERSION, DEFAULT_TOXIPROXY_VERSION } from './provision';
export { ToxiproxyClient } from './toxiproxy-client';
export { isAlive, readPidLedger, liveProcesses } from './managed-process';
export { dockerAnswers } from './docker';
export { allocatePorts } from './ports';
export { readCurrentState, writeCurrentState, clearCurrentState, endRecordedProcesses } from './state';
