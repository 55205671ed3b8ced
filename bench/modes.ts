/**
 * Modes and paths shared by the micro-benchmark (bench/micro.ts, bench/micro-worker.ts) and the
 * broker benchmark (bench/overhead.ts, bench/overhead-worker.ts), and the selection helpers their
 * parents use. No OpenTelemetry here: the per-mode SDK set-up is bench/mode-setup.ts.
 */
export type Mode = 'none' | 'sdk' | 'eda' | 'eda-unsampled' | 'eda-unsampled-skip' | 'eda-ratio' | 'contrib' | 'contrib-metrics' | 'floor';
export const ALL_MODES: readonly Mode[] = ['none', 'sdk', 'eda', 'eda-unsampled', 'eda-unsampled-skip', 'eda-ratio', 'contrib', 'contrib-metrics'];
/** The micro-benchmark's modes: every mode, and `floor` (bench/floor-instrumentation.ts), which only it drives. */
export const MICRO_MODES: readonly Mode[] = [...ALL_MODES, 'floor'];
export const PATHS = ['kafka.eachMessage', 'kafka.eachBatch', 'kafka.produce', 'amqp.publish', 'amqp.publishConfirm', 'amqp.consumeAck'] as const;
export type PathName = (typeof PATHS)[number];

/** The comma list in env variable `name` (unknown names are an error), or `all` when unset. */
export function selected<T extends string>(name: string, all: readonly T[]): T[] {
  const raw = process.env[name];
  if (!raw) return [...all];
  const list = raw.split(',').map((s) => s.trim()).filter(Boolean) as T[];
  const unknown = list.filter((x) => !all.includes(x));
  if (unknown.length) throw new Error(`${name}: unknown ${unknown.join(', ')} (known: ${all.join(', ')})`);
  return list;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** Each round starts one mode later, so no mode always runs first or last. */
export function rotated<T>(list: readonly T[], round: number): T[] {
  return list.map((_, i) => list[(i + round) % list.length] as T);
}
