import { parseExposition } from '../../support/exposition';
import type { Sample } from '../../support/exposition';
import { until } from '../../support/until';

/**
 * Scrapes an exporter and checks every sample on the page: no negative value, no -1, no NaN or
 * infinity, ever. Every test scrapes through here, so the invariant is asserted over all the
 * samples the tests see, not over a chosen few.
 */
export interface CheckedScraper {
  scrape(): Promise<Sample[]>;
  /** Scrapes until `probe` returns a value (each scrape checked), and resolves with that value. */
  until<T>(description: string, probe: (samples: Sample[]) => T | undefined | false, timeoutMs?: number): Promise<T>;
  readonly checked: { pages: number; samples: number };
}

export function invalidSamples(samples: readonly Sample[]): Sample[] {
  return samples.filter((s) => !Number.isFinite(s.value) || s.value < 0);
}

export function createCheckedScraper(metricsUrl: string): CheckedScraper {
  const checked = { pages: 0, samples: 0 };
  const scraper: CheckedScraper = {
    checked,
    async scrape() {
      const res = await fetch(metricsUrl);
      if (res.status !== 200) throw new Error(`GET ${metricsUrl}: HTTP ${res.status}`);
      const samples = parseExposition(await res.text());
      const invalid = invalidSamples(samples);
      if (invalid.length > 0) throw new Error(`invalid samples exported: ${JSON.stringify(invalid)}`);
      checked.pages++;
      checked.samples += samples.length;
      return samples;
    },
    until: (description, probe, timeoutMs) => until(description, async () => probe(await scraper.scrape()), timeoutMs === undefined ? {} : { timeoutMs }),
  };
  return scraper;
}
