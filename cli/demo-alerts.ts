import { errorMessage, requestJson } from '@eda-harness/core';

/**
 * The demo's live view of Prometheus's alerts: each poll of /api/v1/alerts is reduced to one state
 * per alert name and severity, and a line is printed when that state changes (pending, firing,
 * resolved). Pure over plain objects, apart from {@link fetchAlerts}.
 */

export interface PromAlert {
  readonly labels: Readonly<Record<string, string>>;
  readonly state: string;
}

export type AlertState = 'pending' | 'firing';

/** alertname[:severity] → the strongest state among its series (firing over pending). */
export function alertStates(alerts: readonly PromAlert[]): Map<string, AlertState> {
  const states = new Map<string, AlertState>();
  for (const a of alerts) {
    const name = a.labels['alertname'];
    if (name === undefined) continue;
    const key = a.labels['severity'] ? `${name} (${a.labels['severity']})` : name;
    const state: AlertState = a.state === 'firing' ? 'firing' : 'pending';
    if (states.get(key) !== 'firing') states.set(key, state);
  }
  return new Map([...states].sort(([a], [b]) => a.localeCompare(b)));
}

export interface AlertChange {
  readonly alert: string;
  readonly state: AlertState | 'resolved';
}

/** What changed between two polls, in alert-name order. */
export function alertChanges(before: ReadonlyMap<string, AlertState>, after: ReadonlyMap<string, AlertState>): AlertChange[] {
  const changes: AlertChange[] = [];
  for (const [alert, state] of after) if (before.get(alert) !== state) changes.push({ alert, state });
  for (const alert of before.keys()) if (!after.has(alert)) changes.push({ alert, state: 'resolved' });
  return changes.sort((a, b) => a.alert.localeCompare(b.alert));
}

/** Prometheus's active alerts; throws saying what came back when the answer is not a success. */
export async function fetchAlerts(prometheusUrl: string): Promise<PromAlert[]> {
  const url = `${prometheusUrl}/api/v1/alerts`;
  let body: { status?: string; error?: string; data?: { alerts?: PromAlert[] } } | undefined;
  try {
    body = await requestJson(url, { timeoutMs: 3000 });
  } catch (err) {
    throw new Error(`reading ${url} failed: ${errorMessage(err)}`);
  }
  if (body?.status !== 'success') throw new Error(`${url} answered status ${String(body?.status)}${body?.error ? `: ${body.error}` : ''}`);
  return body.data?.alerts ?? [];
}
