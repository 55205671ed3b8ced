import fc from 'fast-check';
import { ageSeconds, exportable, parseOffset, partitionLag } from '../../../exporter/lag';

describe('partitionLag', () => {
  it('is the distance from the committed offset to the high watermark', () => {
    expect(partitionLag(40, 100)).toEqual({ messages: 60, clamped: false });
    expect(partitionLag(100, 100)).toEqual({ messages: 0, clamped: false });
  });

  it('clamps a committed offset above the watermark to 0 and says so', () => {
    expect(partitionLag(105, 100)).toEqual({ messages: 0, clamped: true });
  });

  it('is never negative or NaN for any pair of offsets', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 50 }), fc.integer({ min: 0, max: 2 ** 50 }), (c, h) => {
        const { messages, clamped } = partitionLag(c, h);
        return Number.isFinite(messages) && messages >= 0 && clamped === c > h;
      }),
    );
  });
});

describe('parseOffset', () => {
  it('reads decimal strings and numbers', () => {
    expect(parseOffset('42')).toBe(42);
    expect(parseOffset(0)).toBe(0);
  });

  it.each(['-1', '', 'abc', '1.5', '9007199254740993', undefined, null])('treats %p as no offset, never -1', (v) => {
    expect(parseOffset(v as string)).toBeUndefined();
  });
});

describe('ageSeconds', () => {
  it('is now minus the timestamp in seconds', () => {
    expect(ageSeconds(10_000, 4_000)).toBe(6);
  });

  it('gives 0 for a timestamp in the future (skewed producer clock)', () => {
    expect(ageSeconds(10_000, 12_000)).toBe(0);
  });

  it.each([undefined, Number.NaN, 0, -1, Number.POSITIVE_INFINITY])('gives undefined for the invalid timestamp %p', (ts) => {
    expect(ageSeconds(10_000, ts)).toBeUndefined();
  });
});

describe('exportable', () => {
  it('keeps finite non-negative values and drops the rest', () => {
    expect(exportable(0)).toBe(0);
    expect(exportable(3.5)).toBe(3.5);
    for (const bad of [-1, -0.001, Number.NaN, Number.POSITIVE_INFINITY, undefined]) expect(exportable(bad)).toBeUndefined();
  });
});
