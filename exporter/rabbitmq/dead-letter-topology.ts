import type { ManagementBinding, ManagementQueue } from './management';

/**
 * Which RabbitMQ queues are dead-letter queues, and for which source queues, read from the
 * topology: a queue's `x-dead-letter-exchange` argument (or a policy's `dead-letter-exchange`)
 * names an exchange, and the queues bound to that exchange with a key the dead-lettered messages
 * will carry are its DLQs. Messages keep their original routing key unless
 * `x-dead-letter-routing-key` replaces it; for messages sent straight to the source queue that key
 * is the queue's name, which is what is assumed when no replacement is set. Pure, unit-tested.
 */
export interface DeadLetterRoute {
  readonly vhost: string;
  readonly source: string;
  readonly dlq: string;
}

interface DeadLetterTarget {
  readonly exchange: string;
  readonly routingKey: string | undefined;
}

export function deadLetterTargetOf(queue: ManagementQueue): DeadLetterTarget | undefined {
  const args = queue.arguments ?? {};
  const policy = Array.isArray(queue.effective_policy_definition) ? {} : (queue.effective_policy_definition ?? {});
  const exchange = args['x-dead-letter-exchange'] ?? policy['dead-letter-exchange'];
  if (typeof exchange !== 'string') return undefined;
  const key = args['x-dead-letter-routing-key'] ?? policy['dead-letter-routing-key'];
  return { exchange, routingKey: typeof key === 'string' ? key : undefined };
}

export function deadLetterRoutes(queues: readonly ManagementQueue[], bindings: readonly ManagementBinding[]): DeadLetterRoute[] {
  const routes: DeadLetterRoute[] = [];
  for (const q of queues) {
    const target = deadLetterTargetOf(q);
    if (!target) continue;
    const key = target.routingKey ?? q.name;
    if (target.exchange === '') {
      // The default exchange routes by queue name.
      if (queues.some((d) => d.vhost === q.vhost && d.name === key)) routes.push({ vhost: q.vhost, source: q.name, dlq: key });
      continue;
    }
    for (const b of bindings) {
      if (b.vhost !== q.vhost || b.source !== target.exchange || b.destination_type !== 'queue') continue;
      if (bindingMatches(b.routing_key, key)) routes.push({ vhost: q.vhost, source: q.name, dlq: b.destination });
    }
  }
  return routes;
}

/**
 * Does a binding key accept a routing key? Exact match (direct exchanges), and the topic-exchange
 * wildcards `#` / `*` per dot-separated word (`#` here needs at least one character, a simplification); a fanout binding's key is ignored by the broker and
 * is usually empty, so an empty binding key matches too.
 */
export function bindingMatches(bindingKey: string, routingKey: string): boolean {
  if (bindingKey === routingKey || bindingKey === '' || bindingKey === '#') return true;
  if (!bindingKey.includes('*') && !bindingKey.includes('#')) return false;
  const pattern = bindingKey
    .split('.')
    .map((w) => (w === '#' ? '.*' : w === '*' ? '[^.]+' : w.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
    .join('\\.');
  return new RegExp(`^${pattern}$`).test(routingKey);
}
