import { outputCatchUp, partitionKey } from '../../../chaos/service/output-catch-up';

const ends = (...entries: [string, number, number][]) => new Map(entries.map(([t, p, o]) => [partitionKey(t, p), BigInt(o)]));

describe('outputCatchUp', () => {
  it('is caught up on a partition that got nothing since the reader joined', () => {
    const c = outputCatchUp();
    c.joined(ends(['out', 0, 40], ['out', 1, 7]));
    expect(c.behind(ends(['out', 0, 40], ['out', 1, 7]))).toEqual([]);
  });

  it('is behind until a batch has been read to the end offset, and says where it stands', () => {
    const c = outputCatchUp();
    c.joined(ends(['out', 0, 40]));
    expect(c.behind(ends(['out', 0, 45]))).toEqual(['out[0] at 40 of 45']);
    c.read('out', 0, '42');
    expect(c.behind(ends(['out', 0, 45]))).toEqual(['out[0] at 43 of 45']);
    c.read('out', 0, '44');
    expect(c.behind(ends(['out', 0, 45]))).toEqual([]);
  });

  it('counts a batch ending on a transaction marker as read to the marker', () => {
    const c = outputCatchUp();
    c.joined(ends(['tx', 0, 0]));
    // Records at 0..2, the commit marker at 3: the end offset is 4; the batch of the marker ends at 3.
    c.read('tx', 0, '2');
    expect(c.behind(ends(['tx', 0, 4]))).toEqual(['tx[0] at 3 of 4']);
    c.read('tx', 0, '3');
    expect(c.behind(ends(['tx', 0, 4]))).toEqual([]);
  });

  it('never moves back on an older batch (a redelivery after a rebalance), and a new partition starts at 0', () => {
    const c = outputCatchUp();
    c.joined(ends(['out', 0, 0]));
    c.read('out', 0, '9');
    c.read('out', 0, '3');
    expect(c.behind(ends(['out', 0, 10], ['out', 1, 2]))).toEqual(['out[1] at 0 of 2']);
  });
});
