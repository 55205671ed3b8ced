import { Kafka, logLevel } from 'kafkajs';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { errorMessage } from '../../../core/errors';
import { scenarioByName, summarize } from '../../../chaos/index';
import type { ChaosFault } from '../../../chaos/types';

/**
 * The catalogue's kafka-inter-broker-partition on its own three-node cluster, started and stopped
 * by the scenario as `eda-harness chaos run` does (so the lowered replica.lag.time.max.ms reaches
 * the brokers through the scenario's own environment). It must pass the default invariants
 * (nothing acknowledged lost under acks -1 and min.insync.replicas 2) and it must bite: an
 * observer, added beside the fault, reads the workload topic's ISR from the real cluster every
 * 250 ms; partition 0's ISR must shrink to its leader alone while replication is cut, and be 3
 * on every partition again after healing. From the client side, the history must show no send
 * acknowledged on a shrunk partition between the shrink and healing (acks -1 sends waited, or
 * failed), and sends acknowledged there again afterwards.
 */
interface IsrSample {
  readonly atMs: number;
  readonly partitions: readonly { id: number; leader: number; isr: readonly number[] }[];
}

/** A fault that changes nothing: it polls the topic's metadata from injection until the ISR is whole again after healing. */
function isrObserver(samples: IsrSample[], errors: string[]): ChaosFault & { done(): Promise<void> } {
  let healedAt: number | undefined;
  let loop: Promise<void> = Promise.resolve();
  return {
    name: 'isr-observer',
    description: "reads the workload topic's ISR every 250 ms (test observer, no effect)",
    system: 'kafka',
    needs: { kafkaNodes: 3 },
    async inject(ctx) {
      const admin = new Kafka({ clientId: 'isr-observer', brokers: ctx.env.getKafkaBrokers(), logLevel: logLevel.NOTHING, requestTimeout: 3000, retry: { retries: 1 } }).admin();
      await admin.connect();
      loop = (async () => {
        try {
          for (;;) {
            try {
              const meta = await admin.fetchTopicMetadata({ topics: [ctx.destination] });
              const partitions = (meta.topics[0]?.partitions ?? []).map((p) => ({ id: p.partitionId, leader: p.leader, isr: [...p.isr].sort() }));
              samples.push({ atMs: Date.now(), partitions });
              const whole = partitions.length > 0 && partitions.every((p) => p.isr.length === 3);
              if (healedAt !== undefined && (whole || Date.now() - healedAt > 30_000)) return;
            } catch (err) {
              errors.push(errorMessage(err));
              if (errors.length > 20) return;
            }
            await delay(250);
          }
        } finally {
          await admin.disconnect().catch(() => undefined);
        }
      })();
    },
    async heal() {
      healedAt = Date.now();
    },
    done: () => loop,
  };
}

it('kafka-inter-broker-partition: replication cut, the ISR shrinks and nothing acknowledged is lost; healed, the ISR is whole again', async () => {
  const samples: IsrSample[] = [];
  const errors: string[] = [];
  const observer = isrObserver(samples, errors);
  const scenario = scenarioByName('kafka-inter-broker-partition').withFault(observer);
  const dir = mkdtempSync(join(tmpdir(), 'inter-broker-'));
  const historyPath = join(dir, 'history.jsonl');
  const r = await scenario.run({ historyPath });
  await observer.done();
  const history = readFileSync(historyPath, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { type: string; t: number; partition?: number });
  rmSync(dir, { recursive: true, force: true });
  if (!r.passed) throw new Error(summarize({ tool: 'test', startedAt: r.startedAt, durationMs: r.durationMs, passed: false, scenarios: [r] }));

  const cut = r.faults.find((f) => f.name === 'inter-broker-partition')!;
  expect(cut.error).toBeUndefined();
  const during = samples.filter((s) => s.atMs > cut.startMs && s.atMs < cut.endMs!);
  const after = samples.filter((s) => s.atMs > cut.endMs!);
  const p0 = (s: IsrSample) => s.partitions.find((p) => p.id === 0)!;
  const leader = p0(during[0]!).leader;
  // It bites: partition 0's followers left the ISR while its leader's replication was cut.
  const shrunk = during.filter((s) => p0(s).isr.length === 1);
  expect(shrunk.length).toBeGreaterThan(0);
  expect(p0(shrunk[0]!)).toEqual({ id: 0, leader, isr: [leader] });
  // The leader kept its leadership: the controller quorum was not cut.
  expect(during.every((s) => p0(s).leader === leader)).toBe(true);
  // And it heals: every partition's ISR is 3 again after the proxy came back.
  const whole = after.find((s) => s.partitions.every((p) => p.isr.length === 3));
  expect(whole).toBeDefined();

  // The client's view: on the partitions whose ISR shrank, no acks -1 send was acknowledged from the
  // shrink to healing (min.insync.replicas 2 could not be met), and sends were acknowledged there after.
  const shrunkPartitions = new Set(shrunk[0]!.partitions.filter((p) => p.isr.length === 1).map((p) => p.id));
  const acks = history.filter((h) => h.type === 'send-ack' && h.partition !== undefined && shrunkPartitions.has(h.partition));
  const ackedWhileShrunk = acks.filter((h) => h.t > shrunk[0]!.atMs && h.t < cut.endMs!);
  expect(ackedWhileShrunk).toEqual([]);
  const ackedAfterHeal = acks.filter((h) => h.t > cut.endMs!).length;
  expect(ackedAfterHeal).toBeGreaterThan(0);

  const shrinkMs = shrunk[0]!.atMs - cut.startMs;
  const wholeMs = whole!.atMs - cut.endMs!;
  const failed = r.counts.failed;
  const refusals = r.events.filter((e) => /in-sync replicas/.test(e.message)).length;
  console.log(
    `inter-broker partition: ${r.counts.acked} acknowledged, ${failed} failed sends, ${refusals} in-sync refusals among client events; ` +
      `shrunk partitions [${[...shrunkPartitions].join(',')}]: ${acks.length} acks in all, 0 while shrunk, ${ackedAfterHeal} after healing; ` +
      `leader ${leader}'s ISR [${leader}] ${shrinkMs} ms after the cut, ${shrunk.length} of ${during.length} samples during it; ISR 3 everywhere ${wholeMs} ms after healing; ` +
      `scenario ${(r.durationMs / 1000).toFixed(1)} s; observer errors: ${errors.length}`,
  );
  const figures = Object.assign({}, ...r.invariants.map((i) => i.figures)) as Record<string, number>;
  console.log(
    `counts: sent ${r.counts.sent}, acked ${r.counts.acked}, unique consumed ${r.counts.uniqueConsumed}, duplicates ${r.counts.duplicates}; ` +
      `flow restored ${figures['recoveryMs']} ms after healing, longest consumption pause ${figures['longestConsumptionGapMs']} ms`,
  );
  expect(r.counts.acked).toBeGreaterThan(100);
}, 180_000);
