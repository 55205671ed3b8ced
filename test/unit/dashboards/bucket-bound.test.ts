import { leMatcher, singleSpellingLeMatchers } from '../../../semconv/index';

/** Prometheus 3 stores a whole-number bucket bound written "1" as "1.0"; Prometheus 2 keeps "1". */
describe('bucket bounds on Prometheus 2 and 3', () => {
  it('leMatcher selects a whole-number bound in both spellings, a fractional one as written', () => {
    const re = (matcher: string) => new RegExp(`^(?:${/le=~"(.*)"/.exec(matcher)![1]!.replace(/\\\\/g, '\\')})$`);
    expect(leMatcher(1)).toBe('le=~"1(\\\\.0)?"');
    for (const [bound, spellings, not] of [
      [1, ['1', '1.0'], ['10', '1.5', '10.0']],
      [600, ['600', '600.0'], ['6000', '60.0']],
    ] as const) {
      for (const s of spellings) expect({ bound, s, matches: re(leMatcher(bound)).test(s) }).toEqual({ bound, s, matches: true });
      for (const s of not) expect({ bound, s, matches: re(leMatcher(bound)).test(s) }).toEqual({ bound, s, matches: false });
    }
    expect(leMatcher(0.5)).toBe('le="0.5"');
    expect(leMatcher(14.4 * 0.01)).toBe('le="0.144"');
    expect(() => leMatcher(Infinity)).toThrow('leMatcher: a bucket bound must be a finite number, got Infinity (select the +Inf bucket with le="+Inf")');
  });

  it('singleSpellingLeMatchers finds the selectors that miss on one major, and passes the rest', () => {
    expect(singleSpellingLeMatchers('sum(rate(x_bucket{le="1"}[5m])) / sum(rate(x_bucket{le != "10"}[5m])) + y{le="1.0"}')).toEqual(['le="1"', 'le != "10"', 'le="1.0"']);
    expect(singleSpellingLeMatchers(`x_bucket{${leMatcher(1)}} + x_bucket{${leMatcher(0.25)}} + x_bucket{le="+Inf"} + sum by (le) (x_bucket) + x{handle="1"}`)).toEqual([]);
  });
});
