import { consumerLag, lagLabel, workloadBacklog } from '../../../chaos/report/lag';

describe('workloadBacklog', () => {
  it('is acknowledged minus consumed so far, at the end of each second', () => {
    const buckets = [
      { acked: 10, consumed: 8 },
      { acked: 0, consumed: 0 }, // an outage: nothing acknowledged, nothing consumed, still 2 behind
      { acked: 5, consumed: 0 },
      { acked: 5, consumed: 12 },
    ];
    expect(workloadBacklog(buckets)).toEqual([2, 2, 7, 0]);
  });

  it('never goes below zero (a delivery seen before its acknowledgement) and ignores junk counts', () => {
    expect(workloadBacklog([{ acked: 0, consumed: 3 }, { acked: 5, consumed: 0 }])).toEqual([0, 2]);
    expect(workloadBacklog([{ acked: Number.NaN, consumed: 0 }, { acked: 4, consumed: Number.POSITIVE_INFINITY }])).toEqual([0, 4]);
  });

  it('is empty for an empty timeline', () => {
    expect(workloadBacklog([])).toEqual([]);
  });
});

describe('consumerLag', () => {
  it('uses the workload backlog when no second has the exporter figure', () => {
    expect(consumerLag([{ acked: 3, consumed: 1 }, { acked: 0, consumed: 2, consumerLag: undefined }])).toEqual({ source: 'workload', values: [2, 0] });
  });

  it('uses the exporter figure where any second has one, leaving the others unmeasured', () => {
    const lag = consumerLag([{ acked: 3, consumed: 1, consumerLag: 40 }, { acked: 0, consumed: 2 }, { acked: 0, consumed: 0, consumerLag: 0 }]);
    expect(lag).toEqual({ source: 'exporter', values: [40, undefined, 0] });
  });

  it('does not take a negative or non-finite exporter figure for a measurement', () => {
    const junk = [{ acked: 1, consumed: 0, consumerLag: -1 }, { acked: 1, consumed: 0, consumerLag: Number.NaN }];
    expect(consumerLag(junk)).toEqual({ source: 'workload', values: [1, 2] });
  });

  it('names its source for the legend', () => {
    expect(lagLabel('workload')).toMatch(/acknowledged − consumed/);
    expect(lagLabel('exporter')).toMatch(/exporter/);
  });
});
