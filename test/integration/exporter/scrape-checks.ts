/**
 * Scrapes an exporter and checks every sample on the page: no negative value, no -1, no NaN or
 * infinity, ever. Every test scrapes through here, so the invariant is asserted over all the
 * samples the tests see, not over a chosen few.
 */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface CheckedScraper {
  scrape(): Promise<Sample[]>;
  readonly checked: { pages: number; samples: number };
}

export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$/.exec(line);
    if (!m) throw new Error(`unparseable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (m[3] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[4]) });
  }
  return samples;
}

export function invalidSamples(samples: readonly Sample[]): Sample[] {
  return samples.filter((s) => !Number.isFinite(s.value) || s.value < 0);
}

export function createCheckedScraper(metricsUrl: string): CheckedScraper {
  const checked = { pages: 0, samples: 0 };
  return {
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
  };
}

/** The value of one series (all given labels equal), or undefined when absent. */
export function valueOf(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${found.length} series`);
  return found[0]?.value;
}
