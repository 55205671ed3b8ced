import type { InvariantCheck, InvariantSpec, Observations, SentMessage, SpanRecord } from '../types';
import { invariant, MAX_EXAMPLES } from '../invariant-check';
import { spanSourceFigures, spanSourceNote } from '../trace-backend-source';

/**
 * What must hold for a service under test, as pure functions of the observations rebuilt from the
 * history: the harness's inputs (sends with their trace context), the service's process spans
 * (consumer spans it exported to the harness's OTLP receiver), the outputs read back (deliveries
 * from output topics) and the effects its probe counted. "Processed" means any of: an effect was
 * applied for the input, an output names it, or a process span continues its trace.
 */

const acked = (o: Observations): SentMessage[] => o.sent.filter((m) => m.ackedAtMs !== undefined && !m.poison);

/** Process spans: consumer spans whose parent is an input's send (same trace). */
function processSpansByInput(o: Observations): Map<string, SpanRecord[]> {
  const byContext = new Map<string, string>();
  for (const m of o.sent) if (m.traceId && m.spanId) byContext.set(`${m.traceId}/${m.spanId}`, m.id);
  const out = new Map<string, SpanRecord[]>();
  for (const s of o.spans) {
    if (s.kind !== 'consumer' || !s.parentSpanId) continue;
    const id = byContext.get(`${s.traceId}/${s.parentSpanId}`);
    if (id === undefined) continue;
    const list = out.get(id) ?? [];
    list.push(s);
    out.set(id, list);
  }
  return out;
}

function effectCounts(o: Observations): Map<string, number> {
  const counts = new Map<string, number>();
  for (const e of o.effects ?? []) counts.set(e.id, (counts.get(e.id) ?? 0) + 1);
  return counts;
}

/** Every acknowledged input was processed (effect, output, dead-letter or process span): none lost. */
function inputsNotLost(): InvariantCheck {
  return invariant('no acknowledged input lost', { factory: 'inputsNotLost', args: [] }, (o) => {
    const inputs = acked(o);
    const spans = processSpansByInput(o);
    const effects = effectCounts(o);
    const delivered = new Set(o.consumed.map((c) => c.id));
    const lost = inputs.filter((m) => !spans.has(m.id) && !(effects.get(m.id) ?? 0) && !delivered.has(m.id));
    const rel = (m: SentMessage): string => `${m.id} (key ${m.key}, seq ${m.seq}, sent at +${m.sentAtMs - o.startedMs} ms): no effect, no output, no process span`;
    return {
      passed: inputs.length > 0 && lost.length === 0,
      summary: inputs.length === 0 ? 'no input was acknowledged: the harness never got going' : lost.length === 0 ? `all ${inputs.length} acknowledged inputs were processed` : `${lost.length} of ${inputs.length} acknowledged inputs were never processed`,
      figures: { acked: inputs.length, lost: lost.length, withProcessSpan: [...spans.keys()].length, withEffect: inputs.filter((m) => (effects.get(m.id) ?? 0) > 0).length },
      examples: lost.map(rel),
    };
  });
}

/**
 * The service's effect was applied at most once per input: redeliveries (a restart, a rebalance)
 * must not reserve an order twice. Names the inputs applied more than once.
 */
function effectsOnce(effectName = 'effect'): InvariantCheck {
  return invariant(`each ${effectName} applied once per input`, { factory: 'effectsOnce', args: [effectName] }, (o) => {
    if (o.effects === undefined) return { passed: false, summary: `no ${effectName} was reported: the effects probe returned none (or the config has no effects probe)`, figures: {}, examples: [] };
    const sentIds = new Set(o.sent.map((m) => m.id));
    const counts = effectCounts(o);
    const twice = [...counts].filter(([id, n]) => n > 1 && sentIds.has(id));
    const applied = [...counts].filter(([id]) => sentIds.has(id)).length;
    return {
      passed: twice.length === 0,
      summary: twice.length === 0 ? `${applied} inputs, each ${effectName} applied once` : `${twice.length} inputs had their ${effectName} applied more than once: ${twice.slice(0, MAX_EXAMPLES).map(([id, n]) => `${id} ×${n}`).join(', ')}`,
      figures: { inputsWithEffect: applied, appliedMoreThanOnce: twice.length, extraApplications: twice.reduce((s, [, n]) => s + n - 1, 0) },
      examples: twice.map(([id, n]) => `${id}: ${effectName} applied ${n} times`),
    };
  });
}

/** First processing (process span end) per key follows the send order, for a service that promises it. */
function processedInOrder(): InvariantCheck {
  return invariant('per-key processing order kept', { factory: 'processedInOrder', args: [] }, (o) => {
    const byId = new Map(o.sent.map((m) => [m.id, m]));
    const first = [...processSpansByInput(o)].map(([id, spans]) => ({ m: byId.get(id)!, at: Math.min(...spans.map((s) => s.atMs ?? 0)) })).sort((a, b) => a.at - b.at);
    const last = new Map<string, number>();
    const violations: string[] = [];
    for (const { m } of first) {
      const prev = last.get(m.key);
      if (prev !== undefined && m.seq < prev) violations.push(`key ${m.key}: seq ${m.seq} first processed after seq ${prev}`);
      last.set(m.key, Math.max(prev ?? -1, m.seq));
    }
    return { passed: violations.length === 0, summary: violations.length === 0 ? `${first.length} inputs over ${last.size} keys processed in order` : `${violations.length} inputs processed out of order`, figures: { checked: first.length, outOfOrder: violations.length }, examples: violations };
  });
}

/** After the last fault healed, the service processes an input sent after healing within `limitMs`. */
function serviceRecoversWithin(limitMs: number): InvariantCheck {
  return invariant(`service recovers within ${(limitMs / 1000).toFixed(limitMs % 1000 === 0 ? 0 : 1)} s`, { factory: 'serviceRecoversWithin', args: [limitMs] }, (o) => {
    if (o.faults.length === 0) return { passed: true, summary: 'no fault was injected', figures: {}, examples: [] };
    const unhealed = o.faults.find((f) => f.endMs === undefined);
    if (unhealed) return { passed: false, summary: `fault ${unhealed.name} never healed: ${unhealed.error ?? 'unknown error'}`, figures: {}, examples: [] };
    const healedMs = Math.max(...o.faults.map((f) => f.endMs ?? 0));
    const after = new Set(o.sent.filter((m) => m.sentAtMs >= healedMs && !m.poison).map((m) => m.id));
    const times: number[] = [];
    for (const [id, spans] of processSpansByInput(o)) if (after.has(id)) times.push(...spans.map((s) => s.atMs ?? Infinity));
    for (const c of o.consumed) if (after.has(c.id)) times.push(c.atMs);
    const firstMs = Math.min(...times.filter((t) => t >= healedMs));
    if (!Number.isFinite(firstMs)) return { passed: false, summary: `no input sent after healing was processed (${after.size} sent)`, figures: { sentAfterHeal: after.size }, examples: [] };
    const recoveryMs = firstMs - healedMs;
    return { passed: recoveryMs <= limitMs, summary: `processing restored ${recoveryMs} ms after healing (limit ${limitMs} ms)`, figures: { recoveryMs, limitMs }, examples: [] };
  });
}

/**
 * Input → process → output in one trace: every process span the service exported continues the
 * trace of an input (its parent is the input's send), and every output read back carries the
 * trace of the input it answers. A processed input with no span at all is counted, not failed:
 * a SIGKILL loses the spans still in the service's export buffer, which is telemetry lost, not a
 * broken propagation.
 */
function serviceTraces(): InvariantCheck {
  return invariant('traces continue input → process → output', { factory: 'serviceTraces', args: [] }, (o) => {
    const spans = processSpansByInput(o);
    const linked = new Set([...spans.values()].flat().map((s) => s.spanId));
    const effects = effectCounts(o);
    const byId = new Map(o.sent.map((m) => [m.id, m]));
    const broken: string[] = [];
    const outputs = o.consumed.filter((c) => !c.deadLettered);
    // A process span with a parent in a trace no input of this run has is a message left on the
    // service's topic or queue from before the run (its producer's context arrived intact): counted,
    // not a break. A root span (no parent) or one in an input's trace but not parented on its send is.
    const runTraces = new Set(o.sent.map((m) => m.traceId).filter((t): t is string => t !== undefined));
    const unlinked = o.spans.filter((s) => s.kind === 'consumer' && !linked.has(s.spanId));
    const earlier = unlinked.filter((s) => s.parentSpanId !== undefined && !runTraces.has(s.traceId));
    for (const s of unlinked.filter((x) => !earlier.includes(x))) broken.push(`process span ${s.name} (trace ${s.traceId}) continues no input's trace: the traceparent was lost on the way`);
    for (const c of outputs) {
      const input = byId.get(c.id);
      if (input?.traceId !== undefined && c.producerTraceId !== input.traceId) broken.push(`${c.id}: output in trace ${c.producerTraceId ?? '(no traceparent)'}, its input in ${input.traceId}`);
    }
    const withoutSpan = acked(o).filter((m) => !spans.has(m.id) && ((effects.get(m.id) ?? 0) > 0 || outputs.some((c) => c.id === m.id))).length;
    const missing = `${withoutSpan === 0 ? '' : `; ${withoutSpan} processed inputs have no span (exported spans lost, e.g. to a SIGKILL)`}${earlier.length === 0 ? '' : `; ${earlier.length} process spans of messages from before this run (other traces, parent intact)`}`;
    // Spans read back from a trace backend: a span the service exported (and the harness relayed)
    // that the backend does not hold is lost on the way, not a SIGKILL's: it fails the check.
    const src = o.spanSource;
    const backendLoss = src?.error !== undefined ? `the spans could not be read from ${src.backend}: ${src.error}` : src?.exported !== undefined && src.spans < src.exported ? `${src.exported - src.spans} of ${src.exported} exported spans are missing from ${src.backend}` : undefined;
    const base = spans.size === 0 ? 'no process span continues any input\'s trace' : broken.length === 0 ? `${spans.size} inputs' process spans and ${outputs.length} outputs continue their input's trace${missing}` : `${broken.length} breaks in the traces${missing}`;
    return {
      passed: spans.size > 0 && broken.length === 0 && backendLoss === undefined,
      summary: `${backendLoss === undefined ? base : `${backendLoss}; ${base}`}${spanSourceNote(o)}`,
      figures: { inputsWithProcessSpan: spans.size, outputs: outputs.length, broken: broken.length, processedWithoutSpan: withoutSpan, ...(earlier.length === 0 ? {} : { fromBeforeRun: earlier.length }), ...spanSourceFigures(o) },
      examples: backendLoss === undefined ? broken : [backendLoss, ...broken],
    };
  });
}

/**
 * The poison scenario: every acknowledged poison input reached the service's dead letters (a
 * delivery read from its dead-letter topic or queue) and had no effect; no good input was
 * dead-lettered. (That every good one was processed is no-loss's.) Names the offenders.
 */
function poisonInputsDeadLettered(effectName = 'effect'): InvariantCheck {
  return invariant('poison inputs dead-lettered, never applied', { factory: 'poisonInputsDeadLettered', args: [effectName] }, (o) => {
    const poison = o.sent.filter((m) => m.poison && m.ackedAtMs !== undefined);
    const dead = new Set(o.consumed.filter((c) => c.deadLettered).map((c) => c.id));
    const effects = effectCounts(o);
    const notDead = poison.filter((m) => !dead.has(m.id));
    const applied = poison.filter((m) => (effects.get(m.id) ?? 0) > 0);
    const goodDead = acked(o).filter((m) => dead.has(m.id));
    const examples = [
      ...notDead.map((m) => `${m.id}: poison, never dead-lettered`),
      ...applied.map((m) => `${m.id}: poison, ${effectName} applied ${effects.get(m.id)} times`),
      ...goodDead.map((m) => `${m.id} (key ${m.key}, seq ${m.seq}): a good input dead-lettered`),
    ];
    const problems = [notDead.length > 0 ? `${notDead.length} never dead-lettered` : '', applied.length > 0 ? `${applied.length} applied` : '', goodDead.length > 0 ? `${goodDead.length} good inputs dead-lettered` : ''].filter((x) => x !== '');
    return {
      passed: poison.length > 0 && problems.length === 0,
      summary: poison.length === 0 ? 'no poison input was acknowledged: nothing to check' : problems.length === 0 ? `all ${poison.length} poison inputs dead-lettered, none applied; no good input dead-lettered` : `of ${poison.length} poison inputs: ${problems.join(', ')}`,
      figures: { poison: poison.length, deadLettered: poison.length - notDead.length, applied: applied.length, goodDeadLettered: goodDead.length },
      examples,
    };
  });
}

/**
 * The poison scenario for a service with no dead letters to read (it drops what it rejects, as the
 * reference inventory does): every acknowledged poison input was seen by the service (a process
 * span continues its trace) and had no effect. Names the offenders.
 */
function poisonInputsRejected(effectName = 'effect'): InvariantCheck {
  return invariant('poison inputs rejected, never applied', { factory: 'poisonInputsRejected', args: [effectName] }, (o) => {
    const poison = o.sent.filter((m) => m.poison && m.ackedAtMs !== undefined);
    const spans = processSpansByInput(o);
    const effects = effectCounts(o);
    const unseen = poison.filter((m) => !spans.has(m.id));
    const applied = poison.filter((m) => (effects.get(m.id) ?? 0) > 0);
    const problems = [unseen.length > 0 ? `${unseen.length} never seen by the service` : '', applied.length > 0 ? `${applied.length} applied` : ''].filter((x) => x !== '');
    return {
      passed: poison.length > 0 && problems.length === 0,
      summary: poison.length === 0 ? 'no poison input was acknowledged: nothing to check' : problems.length === 0 ? `all ${poison.length} poison inputs seen by the service, none applied` : `of ${poison.length} poison inputs: ${problems.join(', ')}`,
      figures: { poison: poison.length, seen: poison.length - unseen.length, applied: applied.length },
      examples: [...unseen.map((m) => `${m.id}: poison, no process span`), ...applied.map((m) => `${m.id}: poison, ${effectName} applied ${effects.get(m.id)} times`)],
    };
  });
}

export const ServiceInvariant = { inputsNotLost, effectsOnce, processedInOrder, serviceRecoversWithin, serviceTraces, poisonInputsDeadLettered, poisonInputsRejected } as const;

/** Rebuilds a service invariant from its spec, or says why not; undefined when the factory is not a service one. */
export function serviceInvariantFromSpec(spec: InvariantSpec): InvariantCheck | string | undefined {
  const a = spec.args;
  switch (spec.factory) {
    case 'inputsNotLost':
    case 'processedInOrder':
    case 'serviceTraces':
      return ServiceInvariant[spec.factory]();
    case 'effectsOnce':
      return a[0] === undefined || typeof a[0] === 'string' ? effectsOnce(a[0]) : 'effectsOnce takes the effect name';
    case 'poisonInputsDeadLettered':
    case 'poisonInputsRejected':
      return a[0] === undefined || typeof a[0] === 'string' ? ServiceInvariant[spec.factory](a[0]) : `${spec.factory} takes the effect name`;
    case 'serviceRecoversWithin':
      return typeof a[0] === 'number' && Number.isFinite(a[0]) ? serviceRecoversWithin(a[0]) : 'serviceRecoversWithin takes a limit in milliseconds';
    default:
      return undefined;
  }
}

/** What a service scenario checks: no loss, effects once (with a probe), order (when promised), recovery, traces. */
export function serviceInvariants(options: { recoveryLimitMs: number; effects: boolean; effectName: string; orderedPerKey: boolean; poison?: boolean; deadLetters?: boolean }): InvariantCheck[] {
  return [
    inputsNotLost(),
    ...(options.poison === true ? [options.deadLetters === false ? poisonInputsRejected(options.effectName) : poisonInputsDeadLettered(options.effectName)] : []),
    ...(options.effects ? [effectsOnce(options.effectName)] : []),
    ...(options.orderedPerKey ? [processedInOrder()] : []),
    serviceRecoversWithin(options.recoveryLimitMs),
    serviceTraces(),
  ];
}
