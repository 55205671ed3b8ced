import type { AlertObservation, ConsumedMessage, EffectObservation, ExporterLagSample, FaultWindow, Observations, SentMessage, SpanRecord, SpanSource, ClientEvent } from '../types';
import type { History } from './format';

/** What a send that never settled is recorded with: the run ended (or crashed) before its outcome. */
export const NEVER_SETTLED = 'never settled: the run ended before the broker answered';

/**
 * The observations the invariants read, rebuilt from a history: the one path from what happened
 * to a verdict, for the run and for `chaos check`. Sends are listed in the order they settled
 * (as the workload records them); deliveries, faults, events, spans and alerts in history order.
 */
export function observationsOf(history: History): Observations {
  const { header, records } = history;
  const attempts = new Map<string, { t: number; key: string; seq: number; poison: boolean; traceId?: string; spanId?: string }>();
  const effects: EffectObservation[] = [];
  const sent: SentMessage[] = [];
  const settled = new Set<string>();
  const consumed: ConsumedMessage[] = [];
  const faults: FaultWindow[] = [];
  const faultStarts = new Map<string, { t: number; description: string }>();
  const events: ClientEvent[] = [];
  const spans: SpanRecord[] = [];
  let spanSource: SpanSource | undefined;
  const alerts: AlertObservation[] = [];
  const exporterLag: ExporterLagSample[] = [];
  let startedMs = Date.parse(header.startedAt);
  let endedMs: number | undefined;
  let alertsWatched = header.config.alertPack;
  const settle = (id: string, ackedAtMs: number | undefined, error: string | undefined): void => {
    const a = attempts.get(id);
    if (!a || settled.has(id)) return;
    settled.add(id);
    sent.push({ id, key: a.key, seq: a.seq, poison: a.poison, sentAtMs: a.t, ackedAtMs, error, ...traceOf(a) });
  };
  for (const r of records) {
    switch (r.type) {
      case 'scenario-start':
        startedMs = r.t;
        break;
      case 'send':
        attempts.set(r.id, { t: r.t, key: r.key, seq: r.seq, poison: r.poison, ...traceOf(r) });
        break;
      case 'send-ack':
        settle(r.id, r.t, undefined);
        break;
      case 'send-failed':
        settle(r.id, undefined, r.error);
        break;
      case 'delivery':
        consumed.push({ id: r.id, key: r.key, seq: r.seq, atMs: r.t, partition: r.partition, redelivered: r.redelivered, producerTraceId: r.traceId, producerSpanId: r.spanId, deadLettered: r.deadLettered });
        break;
      case 'fault-start':
        faultStarts.set(r.fault, { t: r.t, description: r.description });
        break;
      case 'fault-end': {
        const start = faultStarts.get(r.fault);
        faults.push({ name: r.fault, description: start?.description ?? '', startMs: start?.t ?? r.t, endMs: r.outcome === 'heal-failed' ? undefined : r.t, error: r.error });
        break;
      }
      case 'event':
        events.push({ atMs: r.t, where: r.where, message: r.message });
        break;
      case 'span':
        spans.push({ name: r.name, kind: r.kind, traceId: r.traceId, spanId: r.spanId, parentSpanId: r.parentSpanId, atMs: r.t });
        break;
      case 'spans-read': {
        const { type: _type, t: _t, ...source } = r;
        spanSource = source;
        break;
      }
      case 'alert':
        alerts.push({ atMs: r.t, alertname: r.alertname, labels: r.labels, state: r.state });
        break;
      case 'exporter-lag':
        exporterLag.push({ atMs: r.t, messages: r.messages });
        break;
      case 'scenario-end':
        endedMs = r.t;
        alertsWatched = r.alertsWatched;
        break;
      case 'effect':
        effects.push({ id: r.id, effect: r.effect, atMs: r.t });
        break;
      case 'verdicts':
        break;
    }
  }
  // A fault injected but never ended (the run crashed mid-window) never healed.
  const ended = new Set(faults.map((f) => f.name));
  for (const [name, s] of faultStarts) if (!ended.has(name)) faults.push({ name, description: s.description, startMs: s.t, endMs: undefined, error: 'no end recorded: the run stopped during the fault' });
  for (const [id, a] of attempts) if (!settled.has(id)) sent.push({ id, key: a.key, seq: a.seq, poison: a.poison, sentAtMs: a.t, ackedAtMs: undefined, error: NEVER_SETTLED, ...traceOf(a) });
  const lastT = records.reduce((m, r) => Math.max(m, r.t), startedMs);
  return {
    scenario: header.scenario,
    system: header.system,
    startedMs,
    endedMs: endedMs ?? lastT,
    sent,
    consumed,
    faults,
    spans,
    ...(spanSource === undefined ? {} : { spanSource }),
    events,
    alerts: alertsWatched ? alerts : undefined,
    ...(effects.length > 0 ? { effects } : {}),
    ...(exporterLag.length > 0 ? { exporterLag } : {}),
  };
}

const traceOf = (r: { traceId?: string | undefined; spanId?: string | undefined }): { traceId?: string; spanId?: string } => ({
  ...(r.traceId === undefined ? {} : { traceId: r.traceId }),
  ...(r.spanId === undefined ? {} : { spanId: r.spanId }),
});
