import { SCENARIO_NAMES, scenarioByName, selectScenarios } from '../../../chaos/catalog';
import { Fault } from '../../../chaos/faults';
import { ChaosScenario, countsOf, timelineOf } from '../../../chaos/scenario';
import type { ChaosFault, ChaosWorkload } from '../../../chaos/types';
import { Workload } from '../../../chaos/workloads';
import { ConfigError } from '../../../core/errors';
import { consumed, obs, sent } from './observations.fixtures';

const NO_LATENCY = { latencyP50Ms: undefined, latencyMaxMs: undefined };

/** A workload that must never be started: `start` records the call and throws. */
function inertWorkload(system: ChaosWorkload['system'], needs: ChaosWorkload['needs'] = system === 'kafka' ? { kafkaNodes: 1 } : { rabbitmq: true }) {
  const start = jest.fn(() => Promise.reject(new Error('the workload must not be started')));
  const workload: ChaosWorkload = { system, needs, description: `inert ${system} workload`, start };
  return { workload, start };
}

describe('countsOf', () => {
  it('counts sends, acks, failures, deliveries, unique consumption, duplicates and poison', () => {
    const o = obs({
      sent: [sent('m1', 100), sent('m2', 200), sent('m3', 300, { failed: true }), sent('p1', 400, { poison: true })],
      consumed: [consumed('m1', 150), consumed('m2', 250), consumed('m1', 260), consumed('m3', 350), consumed('m1', 400)],
    });
    expect(countsOf(o)).toEqual({ sent: 4, acked: 3, failed: 1, deliveries: 5, uniqueConsumed: 3, duplicates: 2, poison: 1 });
  });

  it('is all zeros on an empty history', () => {
    expect(countsOf(obs({}))).toEqual({ sent: 0, acked: 0, failed: 0, deliveries: 0, uniqueConsumed: 0, duplicates: 0, poison: 0 });
  });
});

describe('timelineOf', () => {
  it('buckets per second since the start, failed sends at send time, empty seconds filled with zeros', () => {
    const o = obs({
      sent: [
        sent('m1', 100), // sent and acked in second 0
        sent('m2', 900, { ackAfter: 200 }), // sent in 0, acked in 1
        sent('m3', 1500, { failed: true }), // sent and failed in 1
        sent('m4', 2999, { failed: true, ackAfter: 5000 }), // failed in 2, never acked
      ],
      consumed: [consumed('m1', 120), consumed('m2', 1200), consumed('m2', 4000), consumed('m3', 4999)],
    });
    expect(timelineOf(o)).toStrictEqual([
      { second: 0, sent: 2, acked: 1, failed: 0, consumed: 1, latencyP50Ms: 20, latencyMaxMs: 20 },
      { second: 1, sent: 1, acked: 1, failed: 1, consumed: 1, latencyP50Ms: 300, latencyMaxMs: 300 },
      { second: 2, sent: 1, acked: 0, failed: 1, consumed: 0, ...NO_LATENCY },
      { second: 3, sent: 0, acked: 0, failed: 0, consumed: 0, ...NO_LATENCY },
      // m2's second delivery is a redelivery; m3 (a failed send that got through anyway) is first consumed here.
      { second: 4, sent: 0, acked: 0, failed: 0, consumed: 2, latencyP50Ms: 3499, latencyMaxMs: 3499 },
    ]);
  });

  it('puts anything before the start into second 0', () => {
    expect(timelineOf(obs({ sent: [sent('m1', -300)] }))).toStrictEqual([{ second: 0, sent: 1, acked: 1, failed: 0, consumed: 0, ...NO_LATENCY }]);
  });

  it('has a single empty second for an empty history', () => {
    expect(timelineOf(obs({}))).toStrictEqual([{ second: 0, sent: 0, acked: 0, failed: 0, consumed: 0, ...NO_LATENCY }]);
  });

  it('gives the latency of first deliveries per second: nearest-rank p50 and max, dead-letters, poison and phantoms left out', () => {
    const o = obs({
      sent: [
        ...['a', 'b', 'c', 'd'].map((id, i) => sent(id, i * 100)),
        sent('e', 1000),
        sent('p1', 1100, { poison: true }),
        sent('p2', 1150, { poison: true }),
        sent('x', 1200),
        ...['f', 'g', 'h'].map((id, i) => sent(id, 4000 + i * 100)),
      ],
      consumed: [
        // second 2: latencies 2010, 1950, 1800, 2700 → sorted 1800, 1950, 2010, 2700; nearest rank ⌈4/2⌉ = 2nd
        consumed('a', 2010),
        consumed('b', 2050),
        consumed('d', 2100),
        consumed('c', 2900),
        // second 3: only e is a first delivery (2500 ms); redeliveries of a and b, and poison, do not count
        consumed('a', 3000),
        consumed('b', 3100),
        consumed('p1', 3200, { deadLettered: true }),
        consumed('p2', 3300), // poison the consumer failed to dead-letter: still not a pipeline latency
        consumed('e', 3500),
        // second 4: x's first delivery was dead-lettered, and ghost was never sent
        consumed('x', 4100, { deadLettered: true }),
        consumed('ghost', 4200),
        // second 5: 1000, 1400, 1700 → p50 1400
        consumed('f', 5000),
        consumed('g', 5500),
        consumed('h', 5900),
        // second 6: a redelivery only; x's later delivery is not a first delivery either
        consumed('f', 6000),
        consumed('x', 6500),
      ],
    });
    const points = timelineOf(o);
    expect(points.map(({ second, consumed: n, latencyP50Ms, latencyMaxMs }) => ({ second, consumed: n, latencyP50Ms, latencyMaxMs }))).toStrictEqual([
      { second: 0, consumed: 0, ...NO_LATENCY },
      { second: 1, consumed: 0, ...NO_LATENCY },
      { second: 2, consumed: 4, latencyP50Ms: 1950, latencyMaxMs: 2700 },
      { second: 3, consumed: 5, latencyP50Ms: 2500, latencyMaxMs: 2500 },
      { second: 4, consumed: 2, ...NO_LATENCY },
      { second: 5, consumed: 3, latencyP50Ms: 1400, latencyMaxMs: 1700 },
      { second: 6, consumed: 2, ...NO_LATENCY },
    ]);
  });

  it('takes the p50 of two latencies as the lower one (nearest rank, not interpolated)', () => {
    const [point] = timelineOf(obs({ sent: [sent('a', 0), sent('b', 0)], consumed: [consumed('a', 100), consumed('b', 300)] }));
    expect(point).toMatchObject({ latencyP50Ms: 100, latencyMaxMs: 300 });
  });

  it('agrees with countsOf on totals', () => {
    const o = obs({ sent: [sent('a', 10), sent('b', 1010, { failed: true }), sent('c', 2500, { ackAfter: 3000 })], consumed: [consumed('a', 20), consumed('c', 6000)] });
    const points = timelineOf(o);
    const total = (k: 'sent' | 'acked' | 'failed' | 'consumed') => points.reduce((n, p) => n + p[k], 0);
    const counts = countsOf(o);
    expect([total('sent'), total('acked'), total('failed'), total('consumed')]).toEqual([counts.sent, counts.acked, counts.failed, counts.deliveries]);
    expect(points.map((p) => p.second)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });
});

describe('ChaosScenario', () => {
  it.each(['kafka-broker-kill', 'x', '9lives', 'a-b-c-1'])('accepts the name %p', (name) => {
    expect(new ChaosScenario(name).name).toBe(name);
  });

  it.each(['', 'Kafka', '-leading-dash', 'has space', 'under_score', 'dot.name', 'ümlaut'])('rejects the name %p with a ConfigError', (name) => {
    expect(() => new ChaosScenario(name)).toThrow(ConfigError);
    expect(() => new ChaosScenario(name)).toThrow(`scenario name "${name}" must be lower-case letters, digits and dashes`);
  });

  it('needs a workload before it can say what it needs', () => {
    const s = new ChaosScenario('no-workload');
    expect(() => s.needs()).toThrow(ConfigError);
    expect(() => s.system).toThrow('scenario no-workload has no workload');
  });

  it('needs the union of the workload and the faults: Kafka workload + network fault → Toxiproxy', () => {
    const s = new ChaosScenario('k').withWorkload(Workload.kafka()).withFault(Fault.latency(100));
    expect(s.needs()).toEqual({ kafkaNodes: 1, rabbitmq: false, toxiproxy: true });
    expect(s.system).toBe('kafka');
  });

  it('needs three Kafka nodes for a cluster workload, even with a one-node fault', () => {
    expect(new ChaosScenario('c').withWorkload(Workload.kafka({ cluster: true })).withFault(Fault.brokerKill()).needs()).toEqual({ kafkaNodes: 3, rabbitmq: false, toxiproxy: false });
    expect(new ChaosScenario('c').withWorkload(Workload.kafka()).withFault(Fault.leaderFailover()).needs().kafkaNodes).toBe(3);
  });

  it('needs no Kafka for a RabbitMQ workload', () => {
    const needs = new ChaosScenario('r').withWorkload(Workload.rabbitmq()).withFault(Fault.networkPartition({ system: 'rabbitmq' })).needs();
    expect(needs).toEqual({ rabbitmq: true, toxiproxy: true });
    expect(needs.kafkaNodes).toBeUndefined();
  });

  it('summarises as its description, or the workload and faults', () => {
    const { workload } = inertWorkload('kafka');
    expect(new ChaosScenario('s').withWorkload(workload).withFault(Fault.brokerPause()).summary()).toBe('inert kafka workload; a Kafka broker frozen with SIGSTOP, then resumed');
    expect(new ChaosScenario('s').withWorkload(workload).withDescription('custom').summary()).toBe('custom');
  });

  it('refuses to run a fault for another system, before starting anything', async () => {
    const { workload, start } = inertWorkload('rabbitmq');
    const s = new ChaosScenario('mismatch').withWorkload(workload).withFault(Fault.brokerKill());
    const run = s.run({ progress: () => undefined });
    await expect(run).rejects.toBeInstanceOf(ConfigError);
    await expect(run).rejects.toThrow('scenario mismatch: fault broker-kill acts on kafka but the workload runs on rabbitmq');
    expect(start).not.toHaveBeenCalled();
  });

  it('refuses the mismatch the other way round too, whatever the fault order', async () => {
    const { workload, start } = inertWorkload('kafka');
    const s = new ChaosScenario('mismatch').withWorkload(workload).withFault(Fault.brokerPause(), Fault.latency(50, { system: 'rabbitmq' }));
    await expect(s.run()).rejects.toThrow('fault rabbitmq-latency-50ms acts on rabbitmq but the workload runs on kafka');
    expect(start).not.toHaveBeenCalled();
  });
});

describe('catalog', () => {
  it('lists the release suite', () => {
    expect(SCENARIO_NAMES.length).toBeGreaterThanOrEqual(12);
    expect(new Set(SCENARIO_NAMES).size).toBe(SCENARIO_NAMES.length);
  });

  it.each(SCENARIO_NAMES.map((n) => [n]))('%s builds, with a workload for the system its name starts with', (name) => {
    const s = scenarioByName(name);
    expect(s).toBeInstanceOf(ChaosScenario);
    expect(s.name).toBe(name);
    const system = name.startsWith('kafka-') ? 'kafka' : name.startsWith('rabbitmq-') ? 'rabbitmq' : undefined;
    expect(system).toBeDefined();
    expect(s.system).toBe(system);
    const needs = s.needs();
    if (system === 'kafka') expect(needs.kafkaNodes).toBeDefined();
    else expect(needs).toMatchObject({ rabbitmq: true });
    expect(s.summary().length).toBeGreaterThan(0);
  });

  it('gives network scenarios Toxiproxy and the others none', () => {
    for (const name of SCENARIO_NAMES) {
      const network = /latency|network-partition|bandwidth|reset-peer|inter-broker-partition/.test(name);
      expect([name, scenarioByName(name).needs().toxiproxy]).toEqual([name, network]);
    }
  });

  it('asks for a lowered replica lag time only for the inter-broker partition, and for three RabbitMQ nodes only for the cluster scenarios', () => {
    for (const name of SCENARIO_NAMES) {
      const needs = scenarioByName(name).needs();
      expect([name, needs.kafkaReplicaLagTimeMaxMs]).toEqual([name, name === 'kafka-inter-broker-partition' ? 3000 : undefined]);
      expect([name, needs.rabbitmqNodes]).toEqual([name, name.startsWith('rabbitmq-cluster-') ? 3 : undefined]);
    }
  });

  it('runs the leader failover, the quorum loss and the inter-broker partition on three Kafka nodes and every other Kafka scenario on one', () => {
    const cluster = ['kafka-leader-failover', 'kafka-quorum-loss', 'kafka-inter-broker-partition'];
    for (const name of cluster) expect([name, scenarioByName(name).needs().kafkaNodes]).toEqual([name, 3]);
    for (const name of SCENARIO_NAMES.filter((n) => n.startsWith('kafka-') && !cluster.includes(n))) {
      expect([name, scenarioByName(name).needs().kafkaNodes]).toEqual([name, 1]);
    }
  });

  it('builds a fresh scenario each time', () => {
    expect(scenarioByName('kafka-broker-kill')).not.toBe(scenarioByName('kafka-broker-kill'));
  });

  it('rejects an unknown name with a hint listing the known ones', () => {
    expect(() => scenarioByName('kafka-meteor-strike')).toThrow(ConfigError);
    try {
      scenarioByName('kafka-meteor-strike');
    } catch (err) {
      expect((err as ConfigError).message).toBe('unknown chaos scenario "kafka-meteor-strike"');
      for (const n of SCENARIO_NAMES) expect((err as ConfigError).hint).toContain(n);
    }
  });
});

describe('selectScenarios', () => {
  const kafka = SCENARIO_NAMES.filter((n) => n.startsWith('kafka-'));
  const rabbit = SCENARIO_NAMES.filter((n) => n.startsWith('rabbitmq-'));

  it('selects everything for no pattern', () => {
    expect(selectScenarios([])).toEqual([...SCENARIO_NAMES]);
    expect(selectScenarios(['*'])).toEqual([...SCENARIO_NAMES]);
  });

  it('selects by * glob, in catalog order', () => {
    expect(kafka.length).toBeGreaterThan(0);
    expect(selectScenarios(['kafka-*'])).toEqual(kafka);
    expect(selectScenarios(['rabbitmq-*'])).toEqual(rabbit);
    expect(selectScenarios(['*-latency'])).toEqual(['kafka-latency', 'rabbitmq-latency']);
    expect(selectScenarios(['*-poison-*'])).toEqual(['kafka-poison-messages', 'rabbitmq-poison-messages']);
  });

  it('keeps catalog order whatever the pattern order, without duplicates', () => {
    expect(selectScenarios(['rabbitmq-kill', 'kafka-latency', 'kafka-*', 'kafka-latency'])).toEqual([...kafka, 'rabbitmq-kill']);
  });

  it('matches exact names only, without the wildcard', () => {
    expect(selectScenarios(['kafka-latency'])).toEqual(['kafka-latency']);
    expect(() => selectScenarios(['kafka'])).toThrow(ConfigError);
  });

  it('treats regular-expression characters literally', () => {
    expect(() => selectScenarios(['kafka.latency'])).toThrow('no chaos scenario matches "kafka.latency"');
    expect(() => selectScenarios(['kafka-(latency)'])).toThrow(ConfigError);
  });

  it('rejects a pattern that matches nothing, with a hint listing the names', () => {
    let caught: unknown;
    try {
      selectScenarios(['kafka-*', 'nats-*']);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).message).toBe('no chaos scenario matches "nats-*"');
    expect((caught as ConfigError).hint).toBe(`known scenarios: ${SCENARIO_NAMES.join(', ')}`);
  });
});

describe('Fault', () => {
  it.each([0, -5, Number.NaN, Number.POSITIVE_INFINITY])('Fault.latency(%p) is a ConfigError', (ms) => {
    expect(() => Fault.latency(ms)).toThrow(ConfigError);
    expect(() => Fault.latency(ms)).toThrow(`Fault.latency needs a positive number of milliseconds, got ${ms}`);
  });

  it.each([0, -1, 1.5, Number.NaN])('Fault.poisonMessages(%p) is a ConfigError', (count) => {
    expect(() => Fault.poisonMessages(count)).toThrow(ConfigError);
    expect(() => Fault.poisonMessages(count)).toThrow(`Fault.poisonMessages needs a positive whole count, got ${count}`);
  });

  const cases: [string, () => ChaosFault, Pick<ChaosFault, 'name' | 'system' | 'needs'>][] = [
    ['brokerRestart()', () => Fault.brokerRestart(), { name: 'broker-restart', system: 'kafka', needs: { kafkaNodes: 1 } }],
    ['brokerKill()', () => Fault.brokerKill(), { name: 'broker-kill', system: 'kafka', needs: { kafkaNodes: 1 } }],
    ['brokerPause()', () => Fault.brokerPause(), { name: 'broker-pause', system: 'kafka', needs: { kafkaNodes: 1 } }],
    ['brokerKill({ node: 2 })', () => Fault.brokerKill({ node: 2 }), { name: 'broker-kill', system: 'kafka', needs: { kafkaNodes: 1 } }],
    ['leaderFailover()', () => Fault.leaderFailover(), { name: 'leader-failover', system: 'kafka', needs: { kafkaNodes: 3 } }],
    ['latency(300)', () => Fault.latency(300), { name: 'kafka-latency-300ms', system: 'kafka', needs: { kafkaNodes: 1, toxiproxy: true } }],
    ['networkPartition()', () => Fault.networkPartition(), { name: 'kafka-network-partition', system: 'kafka', needs: { kafkaNodes: 1, toxiproxy: true } }],
    ['poisonMessages(5)', () => Fault.poisonMessages(5), { name: 'kafka-poison-messages', system: 'kafka', needs: { kafkaNodes: 1 } }],
    ['brokerRestart(rabbitmq)', () => Fault.brokerRestart({ system: 'rabbitmq' }), { name: 'rabbitmq-restart', system: 'rabbitmq', needs: { rabbitmq: true } }],
    ['brokerKill(rabbitmq)', () => Fault.brokerKill({ system: 'rabbitmq' }), { name: 'rabbitmq-kill', system: 'rabbitmq', needs: { rabbitmq: true } }],
    ['brokerPause(rabbitmq)', () => Fault.brokerPause({ system: 'rabbitmq' }), { name: 'rabbitmq-pause', system: 'rabbitmq', needs: { rabbitmq: true } }],
    ['latency(300, rabbitmq)', () => Fault.latency(300, { system: 'rabbitmq' }), { name: 'rabbitmq-latency-300ms', system: 'rabbitmq', needs: { rabbitmq: true, toxiproxy: true } }],
    ['networkPartition(rabbitmq)', () => Fault.networkPartition({ system: 'rabbitmq' }), { name: 'rabbitmq-network-partition', system: 'rabbitmq', needs: { rabbitmq: true, toxiproxy: true } }],
    ['poisonMessages(5, rabbitmq)', () => Fault.poisonMessages(5, { system: 'rabbitmq' }), { name: 'rabbitmq-poison-messages', system: 'rabbitmq', needs: { rabbitmq: true } }],
  ];

  it.each(cases)('Fault.%s has its name, system and needs', (_label, make, expected) => {
    const f = make();
    expect({ name: f.name, system: f.system, needs: f.needs }).toEqual(expected);
    expect(f.description.length).toBeGreaterThan(0);
  });

  it('describes the poison count and destination', () => {
    expect(Fault.poisonMessages(5).description).toBe('5 malformed messages sent to the topic');
    expect(Fault.poisonMessages(2, { system: 'rabbitmq' }).description).toBe('2 malformed messages sent to the queue');
  });
});
