import { createServer, type Server } from 'node:net';
import { BrokerUnreachableError } from '../../../core/errors';
import { hostPortProblem, untilAnswering, untilRabbitMqAnswers } from '../../../environment/external/external';

/** The external provider checks what the variables name before it says a service is there. */
describe('KAFKA_BROKERS entries', () => {
  it.each([
    ['127.0.0.1:9092', undefined],
    ['kafka-1.internal.example:19092', undefined],
    ['broker_1:9092', undefined],
    ['[::1]:9092', undefined],
    ['garbage', 'expected host:port'],
    ['not a host:abc', '"not a host" is not a host name or IP address'],
    [':9092', 'no host before the ":"'],
    ['host:', 'the port "" is not a number from 1 to 65535'],
    ['host:0', 'the port "0" is not a number from 1 to 65535'],
    ['host:65536', 'the port "65536" is not a number from 1 to 65535'],
    ['host:9092:1', 'expected host:port'],
    ['::1:9092', 'expected host:port'],
    ['[nope]:9092', '"[nope]" is not a host name or IP address'],
    ['kafka://host:9092', 'expected host:port'],
    ['-host:9092', '"-host" is not a host name or IP address'],
  ])('%s', (entry, problem) => {
    expect(hostPortProblem(entry)).toBe(problem);
  });
});

describe('waiting for external services to answer', () => {
  let closedPort: number;
  beforeAll(async () => {
    // A port that was just free: nobody listens on it.
    const s: Server = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    closedPort = (s.address() as { port: number }).port;
    await new Promise<void>((r) => s.close(() => r()));
  });

  it('resolves once every probe answers', async () => {
    let calls = 0;
    await untilAnswering('x', [{ name: 'flaky', probe: async () => (++calls < 3 ? Promise.reject(new Error('not yet')) : true) }], 5_000);
    expect(calls).toBe(3);
  });

  it('names every service that does not answer: the AMQP URL and the management API both, passwords hidden', async () => {
    const err = await untilRabbitMqAnswers(`amqp://guest:secret@127.0.0.1:${closedPort}`, `http://guest:secret@127.0.0.1:${closedPort}`, 600).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BrokerUnreachableError);
    const message = (err as Error).message;
    expect(message).toMatch(/^the external RabbitMQ does not answer: /);
    expect(message).toContain(`AMQP_URL amqp://guest:***@127.0.0.1:${closedPort}: Timed out`);
    expect(message).toContain(`RABBITMQ_MANAGEMENT_URL http://guest:***@127.0.0.1:${closedPort}: Timed out`);
    expect(message).not.toContain('secret');
  });
});
