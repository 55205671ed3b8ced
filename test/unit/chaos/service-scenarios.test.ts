import { resolveAlertsConfig } from '../../../alerts/index';
import { serviceDownAlert, SERVICE_DOWN_FAULT_MS, SERVICE_DOWN_LAG_SECONDS } from '../../../chaos/service/scenarios';
import { HISTORY_FORMAT, observationsOf, parseHistory, selectServiceScenarios, selectSuiteScenarios, serviceScenario, serviceScenarioNames, serviceUnderTest, validateServiceConfig } from '../../../chaos/index';

const base = { name: 'payments', version: '1', inputs: [{ topic: 'requests', message: (id: string) => ({ value: id }) }] };
const asProcess = serviceUnderTest(validateServiceConfig({ ...base, start: { command: 'node', args: ['main.js'] } }));
const inProcess = serviceUnderTest(validateServiceConfig({ ...base, start: async () => ({ stop: async () => undefined }) }));

describe('a service under test’s scenarios', () => {
  it('are named <service>-<fault>; the process faults only for a command start', () => {
    expect(serviceScenarioNames(asProcess)).toEqual(['payments-broker-restart', 'payments-broker-kill', 'payments-leader-failover', 'payments-network-partition', 'payments-service-kill', 'payments-service-pause', 'payments-poison-messages']);
    expect(serviceScenarioNames(inProcess)).toEqual(['payments-broker-restart', 'payments-broker-kill', 'payments-leader-failover', 'payments-network-partition', 'payments-poison-messages']);
  });

  it('leader failover asks for a three-node cluster, the network partition for Toxiproxy', () => {
    expect(serviceScenario(asProcess, 'payments-leader-failover').needs()).toEqual({ kafkaNodes: 3, rabbitmq: false, toxiproxy: false });
    expect(serviceScenario(asProcess, 'payments-network-partition').needs()).toEqual({ kafkaNodes: 1, rabbitmq: false, toxiproxy: true });
    expect(serviceScenario(asProcess, 'payments-broker-kill').needs()).toEqual({ kafkaNodes: 1, rabbitmq: false, toxiproxy: false });
  });

  it('on RabbitMQ: no leader failover, the broker faults on RabbitMQ; poison checks the dead letters when there are some', () => {
    const amqp = { ...base, start: { command: 'node' }, inputs: [{ exchange: 'notifications', routingKey: 'email', message: (id: string) => ({ value: id }) }] };
    const plain = serviceUnderTest(validateServiceConfig(amqp));
    expect(serviceScenarioNames(plain)).toEqual(['payments-broker-restart', 'payments-broker-kill', 'payments-network-partition', 'payments-service-kill', 'payments-service-pause', 'payments-poison-messages']);
    expect(plain.invariants(30_000, true).map((i) => i.name)).toContain('poison inputs rejected, never applied');
    const withDlq = serviceUnderTest(validateServiceConfig({ ...amqp, deadLetters: { queue: 'emails.dlq' } }));
    expect(serviceScenario(withDlq, 'payments-broker-kill').needs()).toEqual({ rabbitmq: true, toxiproxy: false });
    expect(serviceScenario(withDlq, 'payments-network-partition').needs()).toEqual({ rabbitmq: true, toxiproxy: true });
    expect(serviceScenario(withDlq, 'payments-service-kill').needs()).toEqual({ rabbitmq: true, toxiproxy: false });
    expect(serviceScenario(withDlq, 'payments-poison-messages').summary()).toBe('payments 1: 10 inputs/s over 4 keys to exchange notifications (routing key email), dead letters read from queue emails.dlq; 5 malformed messages sent to the queue');
    expect(withDlq.invariants(30_000, true).map((i) => i.name)).toEqual(['no acknowledged input lost', 'poison inputs dead-lettered, never applied', 'service recovers within 30 s', 'traces continue input → process → output']);
  });

  it('are selected by globs, and an unmatched one names the scenarios there are', () => {
    expect(selectServiceScenarios(asProcess, ['*-service-*'])).toEqual(['payments-service-kill', 'payments-service-pause']);
    const other = serviceUnderTest(validateServiceConfig({ ...base, name: 'emails', start: { command: 'node' } }));
    expect(selectSuiteScenarios([asProcess, other], ['*-broker-kill', 'emails-service-kill']).map((s) => [s.sut.config.name, s.name])).toEqual([
      ['payments', 'payments-broker-kill'],
      ['emails', 'emails-broker-kill'],
      ['emails', 'emails-service-kill'],
    ]);
    expect(() => selectSuiteScenarios([asProcess, other], ['nope-*'])).toThrow('no scenario of services payments or emails matches "nope-*"');
    expect(() => selectServiceScenarios(inProcess, ['payments-service-kill'])).toThrow('no scenario of service payments matches "payments-service-kill"');
    expect(() => serviceScenario(inProcess, 'payments-service-kill')).toThrow('no scenario "payments-service-kill" for service payments');
  });

  it('check the service invariants, effects-once only with a probe', () => {
    const s = serviceScenario(asProcess, 'payments-service-kill');
    expect(s.summary()).toBe('payments 1: 10 inputs/s over 4 keys to topic requests; payments killed with SIGKILL, then started again');
    expect(asProcess.invariants(30_000).map((i) => i.name)).toEqual(['no acknowledged input lost', 'service recovers within 30 s', 'traces continue input → process → output']);
    const probed = serviceUnderTest(validateServiceConfig({ ...base, start: { command: 'node' }, effects: async () => ({}), effectName: 'authorization', orderedPerKey: true }));
    expect(probed.invariants(30_000).map((i) => i.name)).toEqual(['no acknowledged input lost', 'each authorization applied once per input', 'per-key processing order kept', 'service recovers within 30 s', 'traces continue input → process → output']);
  });

  it('fault on a service that is not running says so', async () => {
    const fault = asProcess.kill();
    await expect(fault.inject({ progress: () => undefined } as never)).rejects.toThrow('fault service-kill: the service payments is not running');
  });
});

describe('the page for a service that is down', () => {
  const amqpInput = (extra: Record<string, string>) => ({ ...base, start: { command: 'node' }, inputs: [{ ...extra, message: (id: string) => ({ value: id }) }] });

  it('on Kafka: a kill or a freeze of its one instance must fire and resolve the lag-in-seconds alert for its input topic', () => {
    for (const fault of ['service-kill', 'service-pause']) {
      const a = serviceDownAlert(asProcess, fault);
      expect(a?.check.name).toBe('alert KafkaConsumerLagSecondsHigh fires and resolves');
      expect(a?.check.spec).toEqual({ factory: 'alertFires', args: ['KafkaConsumerLagSecondsHigh', { labels: { topic: 'requests', severity: 'warning' } }] });
      // The lowered pack is one `eda-harness alerts build --config` accepts.
      const config = resolveAlertsConfig({ evaluationInterval: '1s', ...a!.pack.config }, 'test');
      expect(config.thresholds.kafkaLagSecondsWarning).toBe(SERVICE_DOWN_LAG_SECONDS);
      expect(config.for['KafkaConsumerLagSecondsHigh:warning']).toBe('1s');
    }
    expect(serviceDownAlert(asProcess, 'broker-kill')).toBeUndefined();
    const scenario = serviceScenario(asProcess, 'payments-service-kill');
    expect(scenario.needs()).toEqual({ kafkaNodes: 1, rabbitmq: false, toxiproxy: false });
    // The fault outlasts what the page needs to be seen, as in the catalog's kill scenarios.
    expect(scenario.phases().faultMs).toBe(SERVICE_DOWN_FAULT_MS);
    expect(serviceScenario(asProcess, 'payments-broker-kill').phases().faultMs).toBe(5000);
  });

  it('with several instances, one member down need not page: no alert is required', () => {
    const two = serviceUnderTest(validateServiceConfig({ ...base, start: { command: 'node', instances: 2 } }));
    expect(serviceDownAlert(two, 'service-kill')).toBeUndefined();
    expect(serviceDownAlert(two, 'service-pause')).toBeUndefined();
  });

  it('on RabbitMQ: a kill must page for its queue left without a consumer; a freeze keeps the consumer attached, so no page is required', () => {
    const queue = serviceUnderTest(validateServiceConfig(amqpInput({ queue: 'emails' })));
    expect(serviceDownAlert(queue, 'service-kill')?.check.spec).toEqual({ factory: 'alertFires', args: ['RabbitMqQueueWithoutConsumers', { labels: { queue: 'emails' } }] });
    expect(serviceDownAlert(queue, 'service-pause')).toBeUndefined();
    // Behind an exchange, the queue is the service's own: named by serviceQueue, else no page is checked.
    const bound = serviceUnderTest(validateServiceConfig(amqpInput({ exchange: 'notifications', routingKey: 'email', serviceQueue: 'emails' })));
    expect(serviceDownAlert(bound, 'service-kill')?.check.spec?.args[1]).toEqual({ labels: { queue: 'emails' } });
    expect(serviceDownAlert(serviceUnderTest(validateServiceConfig(amqpInput({ exchange: 'notifications', routingKey: 'email' }))), 'service-kill')).toBeUndefined();
  });
});

describe('a service history', () => {
  it('keeps the inputs’ trace context, span end times and effects through the file format', () => {
    const t = 1_700_000_000_000;
    const header = { type: 'header', format: HISTORY_FORMAT, version: 1, scenario: 's', description: 'd', system: 'kafka', startedAt: new Date(t).toISOString(), config: { timing: {}, recoveryLimitMs: 1, workload: 'w', faults: [], invariants: [], alertPack: false }, environment: { needs: {}, provided: 'own' }, harness: { version: 'x', node: 'v20', platform: 'linux' } };
    const lines = [
      header,
      { type: 'send', t, id: 'a', key: 'k0', seq: 0, poison: false, destination: 'requests', traceId: 'ta', spanId: 'sa' },
      { type: 'send-ack', t: t + 2, id: 'a' },
      { type: 'span', t: t + 40, name: 'requests process', kind: 'consumer', traceId: 'ta', spanId: 'pa', parentSpanId: 'sa' },
      { type: 'effect', t: t + 90, id: 'a', effect: 'authorization' },
      { type: 'effect', t: t + 90, id: 'a', effect: 'authorization' },
      { type: 'event', t: t + 91, where: 'service', message: 'service payments (pid 4242) killed with SIGKILL' },
    ];
    const o = observationsOf(parseHistory(lines.map((l) => JSON.stringify(l)).join('\n'), 'h.jsonl'));
    expect(o.sent).toEqual([{ id: 'a', key: 'k0', seq: 0, poison: false, sentAtMs: t, ackedAtMs: t + 2, error: undefined, traceId: 'ta', spanId: 'sa' }]);
    expect(o.spans[0]).toMatchObject({ parentSpanId: 'sa', atMs: t + 40 });
    expect(o.effects).toEqual([
      { id: 'a', effect: 'authorization', atMs: t + 90 },
      { id: 'a', effect: 'authorization', atMs: t + 90 },
    ]);
    expect(o.events[0]!.where).toBe('service');
  });
});
