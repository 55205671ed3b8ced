import type { ManagementBinding, ManagementExchange, ManagementQueue } from './management';

/**
 * Which RabbitMQ queues are dead-letter queues, and for which source queues, read from the
 * topology: a queue's `x-dead-letter-exchange` argument (or a policy's `dead-letter-exchange`)
 * names an exchange, and the queues that exchange routes the dead-lettered messages to, by its
 * type and bindings, are its DLQs. Pure, unit-tested.
 *
 * Messages keep their original routing key unless `x-dead-letter-routing-key` replaces it. The
 * original keys are not listed anywhere, but they are the keys that brought the messages to the
 * source queue: its name (the default exchange) and the keys it is bound with.
 *
 * A queue whose dead letters come back to the source (the retry pattern: `orders` rejects into a
 * TTL queue `orders.retry`, which dead-letters back into `orders` on expiry) is a retry loop, not a
 * pair of DLQs: a route is dropped when its destination dead-letters, directly or through other
 * queues, back into its source.
 */
export interface DeadLetterRoute {
  readonly vhost: string;
  readonly source: string;
  readonly dlq: string;
}

export interface DeadLetterTopology {
  /** Source → DLQ routes, retry loops left out. */
  readonly routes: readonly DeadLetterRoute[];
  /** The queues of retry loops (vhost + NUL + name): never DLQs, whatever their names. */
  readonly retryLoopQueues: ReadonlySet<string>;
  /**
   * The retry loops' waiting queues (vhost + NUL + name): in a loop and with a message TTL
   * (`x-message-ttl` or a policy's `message-ttl`), they hold messages until they expire back into
   * the work queue, with no consumer by design.
   */
  readonly retryHoldQueues: ReadonlySet<string>;
}

/** Whether a queue expires its messages: `x-message-ttl` or an effective policy's `message-ttl`. */
export function hasMessageTtl(queue: ManagementQueue): boolean {
  const args = queue.arguments ?? {};
  const policy = Array.isArray(queue.effective_policy_definition) ? {} : (queue.effective_policy_definition ?? {});
  return typeof (args['x-message-ttl'] ?? policy['message-ttl']) === 'number';
}

interface DeadLetterTarget {
  readonly exchange: string;
  readonly routingKey: string | undefined;
}

/** Exchange-to-exchange bindings followed at most this deep (a loop of exchanges is legal). */
const MAX_EXCHANGE_HOPS = 8;

export function deadLetterTargetOf(queue: ManagementQueue): DeadLetterTarget | undefined {
  const args = queue.arguments ?? {};
  const policy = Array.isArray(queue.effective_policy_definition) ? {} : (queue.effective_policy_definition ?? {});
  const exchange = args['x-dead-letter-exchange'] ?? policy['dead-letter-exchange'];
  if (typeof exchange !== 'string') return undefined;
  const key = args['x-dead-letter-routing-key'] ?? policy['dead-letter-routing-key'];
  return { exchange, routingKey: typeof key === 'string' ? key : undefined };
}

export const queueKey = (vhost: string, name: string): string => `${vhost}\u0000${name}`;

/**
 * `exchanges` gives each exchange's type; without it (or for an exchange it does not list) the
 * binding key is matched as a direct or topic key would be, an empty binding key matching anything.
 */
export function deadLetterTopology(
  queues: readonly ManagementQueue[],
  bindings: readonly ManagementBinding[],
  exchanges?: readonly ManagementExchange[],
): DeadLetterTopology {
  const types = new Map((exchanges ?? []).map((e) => [queueKey(e.vhost, e.name), e.type]));
  const queueNames = new Set(queues.map((q) => queueKey(q.vhost, q.name)));
  const bySource = new Map<string, ManagementBinding[]>();
  const keysInto = new Map<string, Set<string>>();
  for (const b of bindings) {
    const from = queueKey(b.vhost, b.source);
    bySource.set(from, [...(bySource.get(from) ?? []), b]);
    if (b.destination_type === 'queue' && b.source !== '') {
      const to = queueKey(b.vhost, b.destination);
      keysInto.set(to, (keysInto.get(to) ?? new Set()).add(b.routing_key));
    }
  }

  /** The queues an exchange delivers a message with this routing key to. */
  const deliver = (vhost: string, exchange: string, key: string, hops: number, into: Set<string>): void => {
    if (exchange === '') {
      if (queueNames.has(queueKey(vhost, key))) into.add(key);
      return;
    }
    const type = types.get(queueKey(vhost, exchange));
    for (const b of bySource.get(queueKey(vhost, exchange)) ?? []) {
      if (!routes(type, b.routing_key, key)) continue;
      if (b.destination_type === 'queue') into.add(b.destination);
      else if (b.destination_type === 'exchange' && hops < MAX_EXCHANGE_HOPS) deliver(vhost, b.destination, key, hops + 1, into);
    }
  };

  const edges = new Map<string, Set<string>>();
  const candidates: DeadLetterRoute[] = [];
  for (const q of queues) {
    const target = deadLetterTargetOf(q);
    if (!target) continue;
    const keys = target.routingKey !== undefined ? [target.routingKey] : [q.name, ...(keysInto.get(queueKey(q.vhost, q.name)) ?? [])];
    const into = new Set<string>();
    for (const key of keys) deliver(q.vhost, target.exchange, key, 0, into);
    for (const dlq of into) {
      if (dlq === q.name) continue; // dead-lettering into itself: a loop RabbitMQ itself breaks
      candidates.push({ vhost: q.vhost, source: q.name, dlq });
      const from = queueKey(q.vhost, q.name);
      edges.set(from, (edges.get(from) ?? new Set()).add(queueKey(q.vhost, dlq)));
    }
  }

  const reaches = (from: string, to: string): boolean => {
    const seen = new Set<string>([from]);
    const stack = [from];
    while (stack.length > 0) {
      for (const next of edges.get(stack.pop()!) ?? []) {
        if (next === to) return true;
        if (!seen.has(next)) {
          seen.add(next);
          stack.push(next);
        }
      }
    }
    return false;
  };

  const routesOut: DeadLetterRoute[] = [];
  const retryLoopQueues = new Set<string>();
  for (const r of candidates) {
    const source = queueKey(r.vhost, r.source);
    const dlq = queueKey(r.vhost, r.dlq);
    if (reaches(dlq, source)) {
      retryLoopQueues.add(source).add(dlq);
      continue;
    }
    routesOut.push(r);
  }
  const retryHoldQueues = new Set(queues.filter((q) => retryLoopQueues.has(queueKey(q.vhost, q.name)) && hasMessageTtl(q)).map((q) => queueKey(q.vhost, q.name)));
  return { routes: routesOut, retryLoopQueues, retryHoldQueues };
}

/** The routes alone (see {@link deadLetterTopology}). */
export function deadLetterRoutes(
  queues: readonly ManagementQueue[],
  bindings: readonly ManagementBinding[],
  exchanges?: readonly ManagementExchange[],
): DeadLetterRoute[] {
  return [...deadLetterTopology(queues, bindings, exchanges).routes];
}

/** Does a binding of an exchange of this type take a message with this routing key? */
export function routes(type: string | undefined, bindingKey: string, routingKey: string): boolean {
  switch (type) {
    case 'fanout':
    case 'headers': // matched on headers the exporter cannot see: every binding may take it
      return true;
    case 'direct':
      return bindingKey === routingKey;
    case 'topic':
      return topicMatches(bindingKey, routingKey);
    default:
      // Unknown exchange (or a plugin's type): the old guess, exact or topic-style or empty.
      return bindingMatches(bindingKey, routingKey);
  }
}

/**
 * Does a binding key accept a routing key, the exchange type unknown? Exact match, topic-exchange
 * wildcards, and an empty binding key (usually a fanout binding, whose key the broker ignores).
 */
export function bindingMatches(bindingKey: string, routingKey: string): boolean {
  return bindingKey === '' || topicMatches(bindingKey, routingKey);
}

/** Topic-exchange matching: words separated by dots, `*` exactly one word, `#` zero or more. */
export function topicMatches(bindingKey: string, routingKey: string): boolean {
  if (bindingKey === routingKey || bindingKey === '#') return true;
  const pattern = bindingKey.split('.');
  const words = routingKey.split('.');
  const match = (p: number, w: number): boolean => {
    if (p === pattern.length) return w === words.length;
    if (pattern[p] === '#') return match(p + 1, w) || (w < words.length && match(p, w + 1));
    return w < words.length && (pattern[p] === '*' || pattern[p] === words[w]) && match(p + 1, w + 1);
  };
  return match(0, 0);
}
