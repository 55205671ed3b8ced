import { serviceInvariantFromSpec } from './service/invariants';
import type { ConsumedMessage, InvariantCheck, InvariantSpec, Observations, SentMessage } from './types';
import { invariant, type Verdict } from './invariant-check';
import { spanSourceFigures, spanSourceNote } from './trace-backend-source';

/**
 * What must still hold after a fault. Each invariant is a pure function of the observations, so
 * its verdict can be unit-tested on hand-made histories (including the failing ones) and
 * re-checked from a saved history (`eda-harness chaos check`). Figures are always reported, pass or fail: a duplicate count
 * of 0 is a finding too.
 */

function verdict(passed: boolean, summary: string, figures: Record<string, number>, examples: readonly string[] = []): Verdict {
  return { passed, summary, figures, examples };
}

const describeSent = (m: SentMessage): string => `${m.id} (key ${m.key}, seq ${m.seq}, sent at +${m.sentAtMs} ms)`;

/** First deliveries, in consumption order; later deliveries of the same id are duplicates. */
export function firstDeliveries(consumed: readonly ConsumedMessage[]): ConsumedMessage[] {
  const seen = new Set<string>();
  const out: ConsumedMessage[] = [];
  for (const c of consumed) {
    if (seen.has(c.id)) continue;
    seen.add(c.id);
    out.push(c);
  }
  return out;
}

/** When the first fault was injected (the scenario's start when there was none). */
function faultStartMs(o: Observations): number {
  return o.faults.length > 0 ? Math.min(...o.faults.map((f) => f.startMs)) : o.startedMs;
}

/**
 * Every message the broker acknowledged was consumed at least once (dead-lettered counts as
 * consumed: the consumer saw it and routed it). Sends that failed are not counted either way:
 * their fate is unknown by definition.
 */
function noAckedLoss(): InvariantCheck {
  return invariant('no acknowledged message lost', { factory: 'noAckedLoss', args: [] }, (o) => {
    const consumedIds = new Set(o.consumed.map((c) => c.id));
    const acked = o.sent.filter((m) => m.ackedAtMs !== undefined);
    const lost = acked.filter((m) => !consumedIds.has(m.id));
    const rel = (m: SentMessage) => ({ ...m, sentAtMs: m.sentAtMs - o.startedMs });
    return verdict(
      acked.length > 0 && lost.length === 0,
      acked.length === 0 ? 'nothing was acknowledged: the workload never got going' : lost.length === 0 ? `all ${acked.length} acknowledged messages were consumed` : `${lost.length} of ${acked.length} acknowledged messages were never consumed`,
      { acked: acked.length, lost: lost.length },
      lost.map((m) => describeSent(rel(m))),
    );
  });
}

/** Nothing was consumed that the workload did not send (a corrupted or foreign message). */
function noPhantoms(): InvariantCheck {
  return invariant('nothing consumed that was not sent', { factory: 'noPhantoms', args: [] }, (o) => {
    const sentIds = new Set(o.sent.map((m) => m.id));
    const phantoms = o.consumed.filter((c) => !sentIds.has(c.id));
    return verdict(phantoms.length === 0, phantoms.length === 0 ? 'every delivery matches a sent message' : `${phantoms.length} deliveries match no sent message`, { phantoms: phantoms.length }, phantoms.map((c) => c.id));
  });
}

/**
 * Duplicates (deliveries beyond the first of a message) are counted; they fail the scenario only
 * when `max` is given, because at-least-once delivery promises some under faults.
 */
function duplicates(options: { max?: number } = {}): InvariantCheck {
  return invariant(options.max === undefined ? 'duplicates counted' : `at most ${options.max} duplicates`, { factory: 'duplicates', args: [options] }, (o) => {
    const counts = new Map<string, number>();
    for (const c of o.consumed) counts.set(c.id, (counts.get(c.id) ?? 0) + 1);
    const dup = [...counts.values()].reduce((n, k) => n + k - 1, 0);
    const redelivered = o.consumed.filter((c) => c.redelivered).length;
    const examples = [...counts].filter(([, k]) => k > 1).map(([id, k]) => `${id} delivered ${k} times`);
    const passed = options.max === undefined || dup <= options.max;
    const bound = options.max === undefined ? ' (not bounded in this scenario)' : ` (bound ${options.max})`;
    return verdict(passed, `${dup} duplicate deliveries of ${counts.size} messages${bound}`, { duplicates: dup, duplicatedMessages: examples.length, flaggedRedelivered: redelivered }, examples);
  });
}

/**
 * Per key, first deliveries come in send order. A key's messages are sent one after the other
 * (the next only once the previous settled), so a broker that keeps order per key (a Kafka
 * partition, a single RabbitMQ queue with one consumer) must deliver them in that order;
 * redeliveries of older messages are duplicates, not reordering, and are skipped.
 */
function perKeyOrder(): InvariantCheck {
  return invariant('per-key order kept', { factory: 'perKeyOrder', args: [] }, (o) => {
    const last = new Map<string, number>();
    const violations: string[] = [];
    let checked = 0;
    for (const c of firstDeliveries(o.consumed)) {
      if (c.deadLettered) continue;
      checked++;
      const prev = last.get(c.key);
      if (prev !== undefined && c.seq < prev) violations.push(`key ${c.key}: seq ${c.seq} first delivered after seq ${prev}`);
      last.set(c.key, Math.max(prev ?? -1, c.seq));
    }
    return verdict(violations.length === 0, violations.length === 0 ? `${checked} first deliveries over ${last.size} keys in order` : `${violations.length} messages delivered out of order`, { checked, outOfOrder: violations.length }, violations);
  });
}

/**
 * After the last fault healed, end-to-end flow must come back within `limitMs`: recovery time is
 * from healing to the first consumption of a message *sent after* healing (so a backlog draining
 * does not count as recovery). A fault that never healed fails this at once.
 */
function recoveryWithin(limitMs: number): InvariantCheck {
  return invariant(`recovers within ${(limitMs / 1000).toFixed(limitMs % 1000 === 0 ? 0 : 1)} s`, { factory: 'recoveryWithin', args: [limitMs] }, (o) => {
    if (o.faults.length === 0) return verdict(true, 'no fault was injected', {});
    const unhealed = o.faults.find((f) => f.endMs === undefined);
    if (unhealed) return verdict(false, `fault ${unhealed.name} never healed: ${unhealed.error ?? 'unknown error'}`, {});
    const healedMs = Math.max(...o.faults.map((f) => f.endMs ?? 0));
    const sentAfter = new Set(o.sent.filter((m) => m.sentAtMs >= healedMs && !m.poison).map((m) => m.id));
    const first = o.consumed.find((c) => sentAfter.has(c.id) && c.atMs >= healedMs);
    if (!first) return verdict(false, `no message sent after healing was consumed (${sentAfter.size} sent)`, { sentAfterHeal: sentAfter.size });
    const recoveryMs = first.atMs - healedMs;
    // Time with no consumption at all, from the fault's start: what a user of the service sees.
    const faultStart = faultStartMs(o);
    let gap = 0;
    let prev = faultStart;
    for (const c of o.consumed) {
      if (c.atMs < faultStart) continue;
      gap = Math.max(gap, c.atMs - prev);
      prev = c.atMs;
    }
    return verdict(recoveryMs <= limitMs, `flow restored ${recoveryMs} ms after healing (limit ${limitMs} ms); longest pause in consumption ${gap} ms`, { recoveryMs, limitMs, longestConsumptionGapMs: gap });
  });
}

/**
 * Every consumed message still carries its trace: the `traceparent` it arrived with names a
 * producer span the workload recorded, and a consumer span was made as that span's child in the
 * same trace. Faults make clients retry and reconnect; this catches headers lost on the way.
 * When the spans were read back from a trace backend (Jaeger), they are the backend's: a span
 * exported but never stored there breaks its message, and the verdict names the backend.
 */
function tracesIntact(): InvariantCheck {
  return invariant('traces intact', { factory: 'tracesIntact', args: [] }, (o) => {
    const src = o.spanSource;
    const where = src ? ` in ${src.backend}` : '';
    const traceOf = (c: ConsumedMessage): string => (src ? ` (trace ${c.producerTraceId})` : '');
    const from = spanSourceNote(o);
    const sourceFigures = spanSourceFigures(o);
    if (src?.error !== undefined) return verdict(false, `the spans could not be read from ${src.backend}: ${src.error}`, { checked: 0, ...sourceFigures });
    const producers = new Map<string, string>();
    const consumerParents = new Set<string>();
    for (const s of o.spans) {
      if (s.kind === 'producer') producers.set(s.spanId, s.traceId);
      if (s.kind === 'consumer' && s.parentSpanId) consumerParents.add(`${s.traceId}/${s.parentSpanId}`);
    }
    const broken: string[] = [];
    const deliveries = firstDeliveries(o.consumed).filter((c) => !c.deadLettered);
    // A backend indexes ids in lower-case hex; the harness's own records are compared as they are.
    const id = (x: string): string => (src ? x.toLowerCase() : x);
    for (const c of deliveries) {
      if (!c.producerTraceId || !c.producerSpanId) broken.push(`${c.id}: no traceparent header`);
      else if (producers.get(id(c.producerSpanId)) !== id(c.producerTraceId)) broken.push(`${c.id}: traceparent names no ${src ? '' : 'recorded '}producer span${where}${traceOf(c)}`);
      else if (!consumerParents.has(`${id(c.producerTraceId)}/${id(c.producerSpanId)}`)) broken.push(`${c.id}: no consumer span in the producer's trace${where}${traceOf(c)}`);
    }
    const summary = deliveries.length === 0 ? 'nothing consumed to check' : broken.length === 0 ? `all ${deliveries.length} consumed messages joined their producer's trace` : `${broken.length} of ${deliveries.length} consumed messages lost their trace`;
    return verdict(deliveries.length > 0 && broken.length === 0, `${summary}${from}`, { checked: deliveries.length, broken: broken.length, ...sourceFigures }, broken);
  });
}

/** Every poison message sent was routed to the dead-letter queue, and nothing else was. */
function poisonDeadLettered(): InvariantCheck {
  return invariant('poison messages dead-lettered', { factory: 'poisonDeadLettered', args: [] }, (o) => {
    const poison = new Set(o.sent.filter((m) => m.poison && m.ackedAtMs !== undefined).map((m) => m.id));
    // A poison send that failed may still have been written: dead-lettering it is right, not wrong.
    const anyPoison = new Set(o.sent.filter((m) => m.poison).map((m) => m.id));
    const dead = new Set(o.consumed.filter((c) => c.deadLettered).map((c) => c.id));
    const missing = [...poison].filter((id) => !dead.has(id));
    const wrongly = [...dead].filter((id) => !anyPoison.has(id));
    const passed = poison.size > 0 && missing.length === 0 && wrongly.length === 0;
    const summary = poison.size === 0 ? 'no poison message was acknowledged' : passed ? `all ${poison.size} poison messages dead-lettered, no good message was` : `${missing.length} poison messages not dead-lettered, ${wrongly.length} good messages dead-lettered`;
    return verdict(passed, summary, { poison: poison.size, deadLettered: dead.size, missing: missing.length, wronglyDeadLettered: wrongly.length }, [...missing.map((id) => `${id} not dead-lettered`), ...wrongly.map((id) => `${id} dead-lettered`)]);
  });
}

export interface AlertExpectation {
  /** Labels the alert must carry (a subset match), e.g. `{ target: 'kafka' }`. */
  readonly labels?: Readonly<Record<string, string>>;
  /** It must also be resolved by the end of the scenario (default true). */
  readonly resolves?: boolean;
}

/**
 * The alert fired because of the fault: not before it (a false alarm during warm-up fails), at
 * some point after its start, and, unless `resolves: false`, it was resolved again by the end.
 * Needs the scenario to run withAlertPack(), which records alert states from Prometheus.
 */
function alertFires(alertname: string, expect: AlertExpectation = {}): InvariantCheck {
  const resolves = expect.resolves ?? true;
  return invariant(`alert ${alertname} fires${resolves ? ' and resolves' : ''}`, { factory: 'alertFires', args: [alertname, expect] }, (o) => {
    if (o.alerts === undefined) return verdict(false, 'no Prometheus watched this scenario: run it withAlertPack()', {});
    const want = Object.entries(expect.labels ?? {});
    const matching = o.alerts.filter((a) => a.alertname === alertname && want.every(([k, v]) => a.labels[k] === v));
    const faultStart = faultStartMs(o);
    const healed = o.faults.length > 0 ? Math.max(...o.faults.map((f) => f.endMs ?? o.endedMs)) : o.startedMs;
    const early = matching.find((a) => a.state === 'firing' && a.atMs < faultStart);
    if (early) return verdict(false, `fired ${faultStart - early.atMs} ms before the fault: a false alarm`, {}, [JSON.stringify(early.labels)]);
    const firing = matching.find((a) => a.state === 'firing');
    if (!firing) {
      const pending = matching.some((a) => a.state === 'pending');
      return verdict(false, pending ? 'went pending but never fired (the fault was shorter than its for: duration?)' : 'never fired', {});
    }
    const figures: Record<string, number> = { firedAfterFaultStartMs: firing.atMs - faultStart };
    if (!resolves) return verdict(true, `fired ${figures['firedAfterFaultStartMs']} ms after the fault started`, figures);
    // Resolved: every alert instance that fired ended inactive.
    const last = new Map<string, (typeof matching)[number]>();
    for (const a of matching) last.set(JSON.stringify(a.labels), a);
    const stillActive = [...last.values()].filter((a) => a.state !== 'inactive');
    if (stillActive.length > 0) return verdict(false, `fired ${figures['firedAfterFaultStartMs']} ms after the fault started but was still ${stillActive[0]!.state} at the end`, figures, stillActive.map((a) => JSON.stringify(a.labels)));
    const resolvedAt = Math.max(...[...last.values()].map((a) => a.atMs));
    figures['resolvedAfterHealMs'] = resolvedAt - healed;
    return verdict(true, `fired ${figures['firedAfterFaultStartMs']} ms after the fault started, resolved ${figures['resolvedAfterHealMs']} ms after healing`, figures);
  });
}

/** The invariants, behind one small facade: `Invariant.noAckedLoss()`, `Invariant.recoveryWithin(30_000)`. */
export const Invariant = { noAckedLoss, noPhantoms, duplicates, perKeyOrder, recoveryWithin, tracesIntact, poisonDeadLettered, alertFires } as const;

/**
 * An invariant built again from the spec a history saved, or the reason it cannot be (an unknown
 * factory, arguments of the wrong shape: a history from another version, or edited).
 */
export function invariantFromSpec(spec: InvariantSpec): InvariantCheck | string {
  const a = spec.args;
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const isLabels = (v: unknown): boolean => v === undefined || (isObject(v) && Object.values(v).every((x) => typeof x === 'string'));
  switch (spec.factory) {
    case 'noAckedLoss':
    case 'noPhantoms':
    case 'perKeyOrder':
    case 'tracesIntact':
    case 'poisonDeadLettered':
      return Invariant[spec.factory]();
    case 'duplicates': {
      const o = a[0] ?? {};
      if (!isObject(o) || (o['max'] !== undefined && typeof o['max'] !== 'number')) return 'duplicates takes { max?: number }';
      return duplicates(o['max'] === undefined ? {} : { max: o['max'] as number });
    }
    case 'recoveryWithin':
      return typeof a[0] === 'number' && Number.isFinite(a[0]) ? recoveryWithin(a[0]) : 'recoveryWithin takes a limit in milliseconds';
    case 'alertFires': {
      const e = a[1] ?? {};
      if (typeof a[0] !== 'string' || !isObject(e) || !isLabels(e['labels']) || (e['resolves'] !== undefined && typeof e['resolves'] !== 'boolean')) return 'alertFires takes an alert name and { labels?, resolves? }';
      return alertFires(a[0], e as AlertExpectation);
    }
    default:
      return serviceInvariantFromSpec(spec) ?? `no shipped invariant is called ${JSON.stringify(spec.factory)}`;
  }
}

/** What every scenario checks unless it says otherwise. */
export function defaultInvariants(recoveryLimitMs: number): InvariantCheck[] {
  return [noAckedLoss(), noPhantoms(), duplicates(), perKeyOrder(), recoveryWithin(recoveryLimitMs), tracesIntact()];
}
