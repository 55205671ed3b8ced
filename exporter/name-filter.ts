/**
 * Allow / deny lists of names (groups, topics, queues) written as globs: `*` matches any run of
 * characters, everything else is literal. A name passes when it matches an allow pattern (or the
 * allow list is empty) and no deny pattern. Deny wins, so "everything but the internal topics"
 * is `deny: ['__*']` with no allow list.
 */
export interface NameFilterConfig {
  readonly allow?: readonly string[];
  readonly deny?: readonly string[];
}

export type NameFilter = (name: string) => boolean;

/** Compiles one glob to an anchored regular expression; `*` is the only wildcard. */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('(.*)');
  return new RegExp(`^${body}$`);
}

/**
 * Compiled globs by pattern: dead-letter patterns are matched against every topic and queue at
 * every collection, and compiling them each time was a visible share of a collection's CPU.
 * Patterns come from the configuration, so the cache stays small; it is emptied if it ever grows.
 */
const compiledGlobs = new Map<string, RegExp>();
function compiledGlob(glob: string): RegExp {
  let re = compiledGlobs.get(glob);
  if (re === undefined) {
    if (compiledGlobs.size >= 1000) compiledGlobs.clear();
    re = globToRegExp(glob);
    compiledGlobs.set(glob, re);
  }
  return re;
}

export function createNameFilter(config: NameFilterConfig = {}): NameFilter {
  const allow = (config.allow ?? []).map(globToRegExp);
  const deny = (config.deny ?? []).map(globToRegExp);
  return (name) => (allow.length === 0 || allow.some((re) => re.test(name))) && !deny.some((re) => re.test(name));
}

/** A name that matched a dead-letter pattern, with the source it names (the part the `*` matched). */
export interface DlqMatch {
  readonly dlq: string;
  /** The source topic or queue, when the pattern has a `*` and it matched something. */
  readonly source: string | undefined;
}

/**
 * Matches `name` against dead-letter patterns such as `*.dlq` or `dlq.*`. The text matched by the
 * first `*` is taken as the source's name (`orders.dlq` → `orders`), which is how these naming
 * conventions are meant to be read; a pattern without `*` identifies a DLQ but not its source.
 */
export function matchDlqPattern(patterns: readonly string[], name: string): DlqMatch | undefined {
  for (const pattern of patterns) {
    const m = compiledGlob(pattern).exec(name);
    if (!m) continue;
    const source = m[1];
    return { dlq: name, source: source === undefined || source === '' ? undefined : source };
  }
  return undefined;
}
