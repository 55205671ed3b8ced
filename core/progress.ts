/**
 * Progress lines for long work (provisioning, broker start-up) on stderr, so stdout stays
 * machine-readable for `env up --json`. Silenced with EDA_HARNESS_QUIET=1.
 */
export type ProgressSink = (line: string) => void;

const started = Date.now();

export const stderrProgress: ProgressSink = (line) => {
  if (process.env['EDA_HARNESS_QUIET'] === '1') return;
  const t = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[eda-harness ${t}s] ${line}\n`);
};

export const silentProgress: ProgressSink = () => undefined;
