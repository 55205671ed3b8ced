import { setTimeout as delay } from 'node:timers/promises';
import { Invariant } from '../../../chaos/invariants';
import { ackedAfterHealing, healedAtMs } from '../../../chaos/recovery-traffic';
import { ChaosScenario } from '../../../chaos/scenario';
import type { ChaosFault, ChaosWorkload, ConsumedMessage, FaultWindow, RunningWorkload, SentMessage } from '../../../chaos/types';
import type { StartedEnvironment } from '../../../environment/index';

const window = (startMs: number, endMs: number | undefined): FaultWindow => ({ name: 'f', description: 'f', startMs, endMs, error: endMs === undefined ? 'did not heal' : undefined });
const sent = (sentAtMs: number, ackedAtMs: number | undefined, poison = false): SentMessage => ({ id: `m${sentAtMs}`, key: 'k', seq: 0, sentAtMs, ackedAtMs, error: undefined, poison });

describe('recovery traffic', () => {
  it('takes the last fault to heal as the healing moment, and none when a fault did not heal or there was none', () => {
    expect(healedAtMs([window(0, 500), window(100, 900)])).toBe(900);
    expect(healedAtMs([window(0, 500), window(100, undefined)])).toBeUndefined();
    expect(healedAtMs([])).toBeUndefined();
  });

  it('needs a good message sent at or after healing and acknowledged', () => {
    // Sent during the fault and acknowledged after healing: not traffic after healing.
    expect(ackedAfterHealing([sent(800, 1200)], 1000)).toBe(false);
    // Sent after healing, not acknowledged yet (the producer is still reconnecting).
    expect(ackedAfterHealing([sent(1100, undefined)], 1000)).toBe(false);
    // A poison message does not count.
    expect(ackedAfterHealing([sent(1100, 1150, true)], 1000)).toBe(false);
    expect(ackedAfterHealing([sent(800, 1200), sent(1000, 1300)], 1000)).toBe(true);
  });
});

describe('a scenario whose producer is still reconnecting when the recovery traffic would end', () => {
  /**
   * In memory, no broker: a message is sent every 20 ms, acknowledged and consumed at once, except
   * from the fault's start until `reconnectMs` after healing, when the producer is away: sends wait
   * and are acknowledged (and consumed) only when it is back.
   */
  function reconnectingWorkload(reconnectMs: number): { workload: ChaosWorkload; fault: ChaosFault; stoppedAtMs: () => number | undefined } {
    let faultAt: number | undefined;
    let healedAt: number | undefined;
    let stoppedAt: number | undefined;
    const fault: ChaosFault = {
      name: 'producer-away',
      description: 'the producer loses its broker until a while after healing',
      needs: { rabbitmq: true },
      system: 'rabbitmq',
      inject: async () => void (faultAt = Date.now()),
      heal: async () => void (healedAt = Date.now()),
    };
    const workload: ChaosWorkload = {
      system: 'rabbitmq',
      needs: { rabbitmq: true },
      description: 'in memory, its producer away around the fault',
      async start(): Promise<RunningWorkload> {
        const sent: SentMessage[] = [];
        const consumed: ConsumedMessage[] = [];
        let sending = true;
        const away = (t: number) => faultAt !== undefined && t >= faultAt && (healedAt === undefined || t < healedAt + reconnectMs);
        const loop = (async () => {
          for (let seq = 0; sending; seq++) {
            const sentAtMs = Date.now();
            while (sending && away(Date.now())) await delay(5);
            if (!sending) {
              sent.push({ id: `m${seq}`, key: 'k', seq, sentAtMs, ackedAtMs: undefined, error: 'stopped', poison: false });
              break;
            }
            const t = Date.now();
            sent.push({ id: `m${seq}`, key: 'k', seq, sentAtMs, ackedAtMs: t, error: undefined, poison: false });
            consumed.push({ id: `m${seq}`, key: 'k', seq, atMs: t, partition: undefined, redelivered: false, producerTraceId: undefined, producerSpanId: undefined, deadLettered: false });
            await delay(20);
          }
        })();
        return {
          destination: 'q',
          sendPoison: async () => undefined,
          stopSending: async () => {
            stoppedAt = Date.now();
            sending = false;
            await loop;
          },
          close: async () => undefined,
          sent: () => sent,
          consumed: () => consumed,
          events: () => [],
        };
      },
    };
    return { workload, fault, stoppedAtMs: () => stoppedAt };
  }

  it('keeps the traffic going until a message sent after healing is acknowledged, so recovery is judged on one', async () => {
    const { workload, fault, stoppedAtMs } = reconnectingWorkload(600);
    const lines: string[] = [];
    const r = await new ChaosScenario('reconnecting')
      .withWorkload(workload)
      .withFault(fault)
      .withTiming({ warmupMs: 100, faultMs: 100, recoveryMs: 100, drainTimeoutMs: 500 })
      .withInvariants(Invariant.noAckedLoss(), Invariant.recoveryWithin(45_000))
      .run({ env: {} as StartedEnvironment, progress: (l) => void lines.push(l) });
    expect(r.error).toBeUndefined();
    const healed = r.faults[0]?.endMs as number;
    // Without the extension the traffic stopped 100 ms after healing, the producer still away: "no message sent after healing was consumed".
    expect(stoppedAtMs()! - healed).toBeGreaterThanOrEqual(600);
    expect(r.invariants.find((i) => i.name.startsWith('recovers'))).toMatchObject({ passed: true });
    expect(lines.some((l) => /no message sent after healing was acknowledged in 100 ms .* recovery traffic goes on until one is/.test(l))).toBe(true);
  });

  it('goes on no longer than the scenario\'s recovery limit after healing, and recovery then fails', async () => {
    const { workload, fault, stoppedAtMs } = reconnectingWorkload(5_000);
    const lines: string[] = [];
    const r = await new ChaosScenario('limited')
      .withWorkload(workload)
      .withFault(fault)
      .withTiming({ warmupMs: 100, faultMs: 100, recoveryMs: 100, drainTimeoutMs: 500 })
      .withRecoveryLimit(700)
      .run({ env: {} as StartedEnvironment, progress: (l) => void lines.push(l) });
    const healed = r.faults[0]?.endMs as number;
    // Not the default 45 s: 700 ms after healing the traffic stops (the producer is away 5 s).
    expect(stoppedAtMs()! - healed).toBeGreaterThanOrEqual(600);
    expect(stoppedAtMs()! - healed).toBeLessThan(2_500);
    expect(lines.some((l) => /for up to 0\.\d s more \(the recovery limit is 700 ms\)/.test(l))).toBe(true);
    expect(r.invariants.find((i) => i.name.startsWith('recovers'))).toMatchObject({ passed: false });
  });

  it('stops on time when a message sent after healing was acknowledged within the recovery traffic', async () => {
    const { workload, fault, stoppedAtMs } = reconnectingWorkload(0);
    const r = await new ChaosScenario('prompt')
      .withWorkload(workload)
      .withFault(fault)
      .withTiming({ warmupMs: 100, faultMs: 100, recoveryMs: 200, drainTimeoutMs: 500 })
      .withInvariants(Invariant.recoveryWithin(45_000))
      .run({ env: {} as StartedEnvironment });
    expect(stoppedAtMs()! - (r.faults[0]?.endMs as number)).toBeLessThan(400);
    expect(r.passed).toBe(true);
  });
});
