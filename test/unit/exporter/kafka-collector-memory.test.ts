import { withoutVanishedCounts } from '../../../exporter/kafka/collector';
import { EMPTY_KAFKA_MEMORY } from '../../../exporter/kafka/snapshot';
import type { KafkaSnapshot } from '../../../exporter/types';

describe('the Kafka collector prunes the counts of what vanished', () => {
  const snapshot: KafkaSnapshot = {
    atMs: 1,
    groups: [{ group: 'kept', state: 'Stable', members: 1, status: 'OK', uncommitted: new Map() }],
    partitions: [],
    watermarks: [],
    dlqs: [{ system: 'kafka', dlq: 'kept.dlq', sources: [], depth: 0, oldestAgeSeconds: 0 }],
    clamps: [],
    dlqInflow: [],
    warnings: [],
  };

  it('drops the clamp counts of groups and the inflow of dead-letter topics this collection did not see', () => {
    const memory = {
      ...EMPTY_KAFKA_MEMORY,
      clamps: new Map([
        ['kept\u0000t', { labels: { group: 'kept', topic: 't' }, value: 1 }],
        ['gone\u0000t', { labels: { group: 'gone', topic: 't' }, value: 2 }],
      ]),
      dlqInflow: new Map([
        ['kept.dlq\u0000kept', { labels: { dlq: 'kept.dlq', source: 'kept' }, value: 3 }],
        ['gone.dlq\u0000gone', { labels: { dlq: 'gone.dlq', source: 'gone' }, value: 4 }],
      ]),
    };
    const pruned = withoutVanishedCounts(memory, snapshot);
    expect([...pruned.clamps.keys()]).toEqual(['kept\u0000t']);
    expect([...pruned.dlqInflow.keys()]).toEqual(['kept.dlq\u0000kept']);
  });

  it('returns the same maps when nothing vanished', () => {
    const memory = { ...EMPTY_KAFKA_MEMORY, clamps: new Map([['kept\u0000t', { labels: { group: 'kept', topic: 't' }, value: 1 }]]) };
    const pruned = withoutVanishedCounts(memory, snapshot);
    expect(pruned.clamps).toBe(memory.clamps);
    expect(pruned.dlqInflow).toBe(memory.dlqInflow);
  });
});
