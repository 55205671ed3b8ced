import { countPartialFailures, createWarningLimiter, partialFailureRequest } from '../../../exporter/partial-failures';

describe('partial failures', () => {
  it('names the request behind each warning the reads give', () => {
    expect(partialFailureRequest('describeGroups(g1): GROUP_AUTHORIZATION_FAILED')).toBe('describe_group');
    expect(partialFailureRequest('fetchOffsets(g1): timeout')).toBe('fetch_offsets');
    expect(partialFailureRequest('metadata of 3 topics, reading offsets through the admin client: x')).toBe('metadata');
    expect(partialFailureRequest('listOffsets(t/2): LEADER_NOT_AVAILABLE')).toBe('list_offsets');
    expect(partialFailureRequest('fetchTopicOffsets(t): NOT_LEADER_OR_FOLLOWER')).toBe('list_offsets');
    expect(partialFailureRequest('fetching record timestamps: Connection closed')).toBe('fetch_records');
    expect(partialFailureRequest('record timestamps: 2 of 9 records not returned (truncated batch, moved leader or deleted record)')).toBe('fetch_records');
    expect(partialFailureRequest('management statistics are disabled on the server: queue depths are not known; …')).toBe('management_statistics');
    expect(partialFailureRequest('management API unavailable, using AMQP passive declares: HTTP 503')).toBe('management');
    expect(partialFailureRequest("reading depth and consumers from RabbitMQ's Prometheus endpoint: the management API failed")).toBe('management');
    expect(partialFailureRequest('checkQueue(orders): NOT_FOUND')).toBe('check_queue');
    expect(partialFailureRequest('something nobody wrote a rule for')).toBe('other');
  });

  it('counts warnings by request, on a copy', () => {
    const before = new Map([['list_offsets', 2]]);
    const after = countPartialFailures(before, ['listOffsets(t/0): x', 'listOffsets(t/1): x', 'describeGroups(g): y']);
    expect([...after]).toEqual([
      ['list_offsets', 4],
      ['describe_group', 1],
    ]);
    expect([...before]).toEqual([['list_offsets', 2]]);
  });

  it('logs one line per request kind per interval, saying how many it left out', () => {
    const limiter = createWarningLimiter(60_000);
    expect(limiter.lines(['listOffsets(t/0): x', 'listOffsets(t/1): x', 'describeGroups(g): y'], 0)).toEqual([
      'listOffsets(t/0): x (1 more list_offsets warning in this collection; logged once per 1 min per kind, counted in eda_exporter_partial_failures_total)',
      'describeGroups(g): y',
    ]);
    // Every collection of the next minute: nothing logged, everything counted for the next line.
    expect(limiter.lines(['listOffsets(t/0): x'], 15_000)).toEqual([]);
    expect(limiter.lines(['listOffsets(t/0): x', 'fetchOffsets(g): z'], 30_000)).toEqual(['fetchOffsets(g): z']);
    expect(limiter.lines(['listOffsets(t/0): x'], 60_000)).toEqual([
      'listOffsets(t/0): x (2 more list_offsets warnings since the last one logged; logged once per 1 min per kind, counted in eda_exporter_partial_failures_total)',
    ]);
    expect(limiter.lines(['listOffsets(t/0): x'], 61_000)).toEqual([]);
    expect(limiter.lines([], 200_000)).toEqual([]);
    expect(limiter.lines(['listOffsets(t/0): x'], 200_000)).toEqual(['listOffsets(t/0): x (1 more list_offsets warning since the last one logged; logged once per 1 min per kind, counted in eda_exporter_partial_failures_total)']);
  });
});
