import { bindingMatches, deadLetterRoutes } from '../../../exporter/rabbitmq/dead-letter-topology';
import type { ManagementBinding, ManagementQueue } from '../../../exporter/rabbitmq/management';

const q = (name: string, args: Record<string, unknown> = {}, policy: Record<string, unknown> = {}): ManagementQueue => ({
  name,
  vhost: '/',
  arguments: args,
  effective_policy_definition: policy,
});
const b = (source: string, destination: string, routing_key: string): ManagementBinding => ({ source, vhost: '/', destination, destination_type: 'queue', routing_key });

describe('deadLetterRoutes', () => {
  it('follows x-dead-letter-exchange to the queues bound with the source queue name as key', () => {
    const queues = [q('orders', { 'x-dead-letter-exchange': 'dlx' }), q('orders.parking'), q('other')];
    expect(deadLetterRoutes(queues, [b('dlx', 'orders.parking', 'orders'), b('dlx', 'other', 'payments')])).toEqual([
      { vhost: '/', source: 'orders', dlq: 'orders.parking' },
    ]);
  });

  it('uses x-dead-letter-routing-key when set, and policies as well as arguments', () => {
    const queues = [q('a', { 'x-dead-letter-exchange': 'dlx', 'x-dead-letter-routing-key': 'dead' }), q('b', {}, { 'dead-letter-exchange': 'dlx' }), q('dead-q'), q('b-q')];
    const routes = deadLetterRoutes(queues, [b('dlx', 'dead-q', 'dead'), b('dlx', 'b-q', 'b')]);
    expect(routes).toEqual([
      { vhost: '/', source: 'a', dlq: 'dead-q' },
      { vhost: '/', source: 'b', dlq: 'b-q' },
    ]);
  });

  it('routes through the default exchange by queue name', () => {
    const queues = [q('src', { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'src.dead' }), q('src.dead')];
    expect(deadLetterRoutes(queues, [])).toEqual([{ vhost: '/', source: 'src', dlq: 'src.dead' }]);
  });

  it('ignores queues without a dead-letter exchange and other vhosts', () => {
    const queues = [q('plain'), { ...q('x', { 'x-dead-letter-exchange': 'dlx' }), vhost: 'v2' }];
    expect(deadLetterRoutes(queues, [b('dlx', 'plain', 'x')])).toEqual([]);
  });
});

describe('bindingMatches', () => {
  it.each([
    ['orders', 'orders', true],
    ['orders', 'payments', false],
    ['', 'anything', true],
    ['#', 'a.b.c', true],
    ['orders.*', 'orders.eu', true],
    ['orders.*', 'orders.eu.x', false],
    ['orders.#', 'orders.eu.x', true],
  ])('binding %p, routing key %p → %p', (binding, key, expected) => {
    expect(bindingMatches(binding, key)).toBe(expected);
  });
});
