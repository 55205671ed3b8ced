import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { BrokerUnreachableError, ConfigError, HttpRequestError } from '../../../core/errors';
import { createRabbitMqCollector } from '../../../exporter/rabbitmq/collector';
import { createManagementClient } from '../../../exporter/rabbitmq/management';
import type { ManagementClient } from '../../../exporter/rabbitmq/management';

/** When the management API and the AMQP fallback both fail, the error says both (no broker: a closed local port). */

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

const failing: ManagementClient = {
  queues: () => Promise.reject(new HttpRequestError('RabbitMQ management API: GET http://rabbit:15672/api/queues answered HTTP 401: {"error":"not_authorised"}', { status: 401 })),
  bindings: () => Promise.resolve([]),
  exchanges: () => Promise.resolve([]),
  statisticsDisabled: () => Promise.resolve(false),
};

describe('RabbitMQ collector fallback', () => {
  it('shows the management error and the AMQP error when both fail', async () => {
    const port = await closedPort();
    const collector = createRabbitMqCollector({ config: { managementUrl: 'http://unused', amqpUrl: `amqp://monitor:s3cret@127.0.0.1:${port}`, queues: { allow: ['q'] } }, management: failing });
    const err = await collector.collect().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    await collector.close();
    expect(err).toBeInstanceOf(BrokerUnreachableError);
    expect(err?.message).toMatch(/^both the management API and the AMQP fallback failed: RabbitMQ management API: GET .* answered HTTP 401/);
    expect(err?.message).toContain(`; AMQP amqp://monitor:***@127.0.0.1:${port}: `);
    expect(err?.message).toMatch(/ECONNREFUSED/);
    expect(err?.message).not.toContain('s3cret');
  });

  it('without a management URL, an AMQP failure says it was AMQP and where', async () => {
    const port = await closedPort();
    const collector = createRabbitMqCollector({ config: { amqpUrl: `amqp://127.0.0.1:${port}` } });
    await expect(collector.collect()).rejects.toThrow(new RegExp(`^AMQP amqp://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
    await collector.close();
  });

  it('an invalid management URL is a ConfigError, not "Invalid URL"', () => {
    expect(() => createManagementClient({ url: 'http://u:s3cret@bad host' })).toThrow(ConfigError);
    expect(() => createManagementClient({ url: 'http://u:s3cret@bad host' })).toThrow('RabbitMQ management URL "http://u:***@bad host" is not a valid URL');
  });
});
