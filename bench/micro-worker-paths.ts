/** Modes and paths of the micro-benchmark (bench/micro.ts, bench/micro-worker.ts). */
export type Mode = 'none' | 'sdk' | 'eda' | 'eda-unsampled' | 'eda-unsampled-skip' | 'eda-ratio' | 'contrib' | 'contrib-metrics';
export const PATHS = ['kafka.eachMessage', 'kafka.eachBatch', 'kafka.produce', 'amqp.publish', 'amqp.publishConfirm', 'amqp.consumeAck'] as const;
export type PathName = (typeof PATHS)[number];
