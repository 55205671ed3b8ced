import { accessSync, constants, existsSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, EdaHarnessError, ensureDir, errorMessage, withDeadline } from '@eda-harness/core';
import type { MessageProviderDefinition, VerificationReport } from '@eda-harness/contracts';

// Pact (and its native library) load only when a contracts command runs, not on every CLI start.
const contractsModule = () => import('@eda-harness/contracts');

export const CONTRACTS_HELP = `Usage: eda-harness contracts <verify|list> [options]

  verify   verify a message provider's real code against its consumers' pacts
  list     list pact files: consumer, provider, interactions and their transport

Options:
  --pacts <path>             pact file, directory or URL; repeatable (default $PACT_DIR or ./pacts)
  --provider <name>          the provider to verify / list (verify: must match the module's)
  --provider-module <file>   module exporting the provider definition (default export, \`provider\`,
                             or a function returning one); default: the reference order-service
  --consumer <name>          only this consumer's pacts; repeatable
  --no-broker                ignore PACT_BROKER_* variables and use local pacts (verify)
  --report-json <file>       also write the verification report as JSON (verify)
  --factory-timeout <ms>     how long a message factory or state setup may take (verify; default 10000)
  --json                     print the list as JSON (list)

Only message interactions are verified: HTTP and synchronous-message interactions in the same
pacts are skipped and listed as SKIP in the report.

A Pact Broker is used when PACT_BROKER_BASE_URL is set (with PACT_BROKER_TOKEN or
PACT_BROKER_USERNAME / PACT_BROKER_PASSWORD); PACT_CONSUMER_VERSION_SELECTORS (JSON array),
PACT_PROVIDER_VERSION, PACT_PROVIDER_BRANCH, PACT_PUBLISH_VERIFICATION_RESULTS=true,
PACT_ENABLE_PENDING and PACT_INCLUDE_WIP_PACTS_SINCE configure it. It is never required.

Exit codes: 0 every interaction verified; 1 a contract is broken (the report says which
interaction and which field); 2 nothing could be verified (bad options, no or unreadable pacts,
a bad module, no factory produced a message, an unreachable Pact Broker, an unwritable report).

Example:
  eda-harness contracts verify --pacts pacts --provider order-service
  eda-harness contracts list`;

interface ContractsFlags {
  pacts: string[] | undefined;
  provider: string | undefined;
  providerModule: string | undefined;
  consumers: string[] | undefined;
  noBroker: boolean;
  reportJson: string | undefined;
  factoryTimeoutMs: number | undefined;
  json: boolean;
}

const OPTIONS = {
  pacts: { type: 'string', multiple: true },
  provider: { type: 'string' },
  'provider-module': { type: 'string' },
  consumer: { type: 'string', multiple: true },
  'no-broker': { type: 'boolean' },
  'report-json': { type: 'string' },
  'factory-timeout': { type: 'string' },
  json: { type: 'boolean' },
} as const;
/** Options that only one subcommand takes. */
const ONLY_FOR: Readonly<Record<string, 'verify' | 'list'>> = { 'provider-module': 'verify', 'no-broker': 'verify', 'report-json': 'verify', 'factory-timeout': 'verify', json: 'list' };
const MAX_FACTORY_TIMEOUT_MS = 600_000;

function parseFlags(sub: 'verify' | 'list', argv: string[]): ContractsFlags {
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true });
  for (const [name, only] of Object.entries(ONLY_FOR)) {
    if (values[name as keyof typeof values] !== undefined && only !== sub) throw new ConfigError(`--${name} is an option of "contracts ${only}", not of "contracts ${sub}"`);
  }
  const text = (name: string, value: string | undefined): string | undefined => {
    if (value !== undefined && value.trim() === '') throw new ConfigError(`--${name} needs a value, got an empty string`);
    return value;
  };
  const list = (name: string, value: string[] | undefined): string[] | undefined => value?.map((v) => text(name, v) as string);
  return {
    pacts: list('pacts', values.pacts),
    provider: text('provider', values.provider),
    providerModule: text('provider-module', values['provider-module']),
    consumers: list('consumer', values.consumer),
    noBroker: values['no-broker'] ?? false,
    reportJson: text('report-json', values['report-json']),
    factoryTimeoutMs: milliseconds('factory-timeout', values['factory-timeout']),
    json: values.json ?? false,
  };
}

function milliseconds(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isSafeInteger(ms) || ms < 1 || ms > MAX_FACTORY_TIMEOUT_MS) {
    throw new ConfigError(`--${name} must be a whole number of milliseconds from 1 to ${MAX_FACTORY_TIMEOUT_MS}, got "${value}"`);
  }
  return ms;
}

/**
 * Loads a provider definition: default export, `provider` export, the module itself, or a
 * function (sync or async) returning one. Anything else, or a definition whose messages and
 * states are not functions, is a {@link ConfigError} naming the module and the key.
 */
export async function loadProviderModule(file: string, timeoutMs = 10_000): Promise<MessageProviderDefinition> {
  const path = resolve(file);
  if (!existsSync(path)) throw new ConfigError(`--provider-module: no file at ${path}`);
  let mod: unknown;
  try {
    mod = require(path);
  } catch (err) {
    throw new ConfigError(`cannot load provider module ${path}: ${errorMessage(err).split('\n')[0] ?? ''}`, {
      cause: err,
      ...(/\.[cm]?tsx?$/.test(path) ? { hint: 'the CLI loads JavaScript (CommonJS): compile the module first, or require the compiled file' } : {}),
    });
  }
  const m = (mod ?? {}) as Record<string, unknown>;
  for (const candidate of [m['default'], m['provider'], mod]) {
    let value: unknown = candidate;
    try {
      if (typeof value === 'function') value = (value as () => unknown)();
      if (typeof (value as { then?: unknown } | null)?.then === 'function') value = await withDeadline(Promise.resolve(value), timeoutMs, () => new ConfigError(`it did not resolve within ${timeoutMs} ms`));
    } catch (err) {
      throw new ConfigError(`provider module ${path}: its exported function failed: ${errorMessage(err).split('\n')[0] ?? ''}`, { cause: err });
    }
    if (isDefinition(value)) return checkDefinition(value, path);
  }
  throw new ConfigError(`${path} exports no provider definition`, { hint: 'export default { provider: "name", messages: { "<interaction description>": async () => capturedMessage } }' });
}

function isDefinition(v: unknown): v is MessageProviderDefinition {
  return typeof v === 'object' && v !== null && typeof (v as { provider?: unknown }).provider === 'string' && typeof (v as { messages?: unknown }).messages === 'object';
}

function checkDefinition(d: MessageProviderDefinition, path: string): MessageProviderDefinition {
  const bad = (what: string) => new ConfigError(`provider module ${path}: ${what}`, { hint: 'messages: { "<description>": () => capturedMessage }, states: { "<state>": (params) => … or { setup, teardown } }' });
  if (d.provider.trim() === '') throw bad('"provider" is an empty name');
  if (d.messages === null || Array.isArray(d.messages)) throw bad('"messages" is not an object of message factories');
  for (const [k, f] of Object.entries(d.messages)) if (typeof f !== 'function') throw bad(`messages["${k}"] is ${f === null ? 'null' : typeof f}, not a function`);
  if (d.states === undefined) return d;
  if (typeof d.states !== 'object' || d.states === null || Array.isArray(d.states)) throw bad('"states" is not an object of provider state handlers');
  for (const [k, h] of Object.entries(d.states)) {
    const phases = typeof h === 'object' && h !== null ? [h.setup, h.teardown] : [h];
    if (typeof h !== 'function' && (typeof h !== 'object' || h === null || !phases.every((p) => p === undefined || typeof p === 'function'))) {
      throw bad(`states["${k}"] is not a function or { setup, teardown } of functions`);
    }
  }
  return d;
}

/** Checks before verifying that the report can be written: its folder (created) and the file. */
function reportTarget(file: string): string {
  const path = resolve(file);
  ensureDir(dirname(path), { what: 'the --report-json folder' });
  if (existsSync(path) && statSync(path).isDirectory()) throw new ConfigError(`--report-json ${path} is a folder, not a file`);
  try {
    accessSync(existsSync(path) ? path : dirname(path), constants.W_OK);
  } catch (err) {
    throw new ConfigError(`cannot write --report-json ${path}: ${(err as { code?: string }).code ?? errorMessage(err)}`, { cause: err });
  }
  return path;
}

/** An interaction whose factory (or state setup) failed produced no message: nothing was compared. */
const producedAMessage = (i: VerificationReport['interactions'][number]) => !i.mismatches.some((m) => m.kind === 'error' && m.where === 'message factory');

async function verify(flags: ContractsFlags): Promise<number> {
  const reportFile = flags.reportJson === undefined ? undefined : reportTarget(flags.reportJson);
  const timeoutMs = flags.factoryTimeoutMs;
  const { formatReport, verifyProvider } = await contractsModule();
  const definition = flags.providerModule ? await loadProviderModule(flags.providerModule, timeoutMs) : (await import('@eda-harness/examples')).orderServiceProvider();
  if (flags.provider && flags.provider !== definition.provider) {
    throw new ConfigError(`--provider ${flags.provider} does not match the provider module, which defines "${definition.provider}"`);
  }
  const report = await verifyProvider(definition, {
    ...(flags.pacts ? { pacts: flags.pacts } : {}),
    ...(flags.consumers ? { consumers: flags.consumers } : {}),
    ...(flags.noBroker ? { broker: false as const } : {}),
    ...(timeoutMs === undefined ? {} : { factoryTimeoutMs: timeoutMs }),
  });
  // Pact's verifier prints its own detailed log above; this is the summary CI readers look for.
  console.log(`\n${formatReport(report)}`);
  if (reportFile) {
    try {
      writeFileSync(reportFile, `${JSON.stringify(report, null, 2)}\n`);
    } catch (err) {
      throw new ConfigError(`cannot write --report-json ${reportFile}: ${(err as { code?: string }).code ?? errorMessage(err)}`, { cause: err });
    }
  }
  if (report.passed) return 0;
  if (!report.interactions.some(producedAMessage)) {
    console.error('eda-harness contracts verify: nothing could be verified: no message factory produced a message (see the report above)');
    return 2;
  }
  return 1;
}

async function list(flags: ContractsFlags): Promise<number> {
  const { defaultPactDir, readPacts } = await contractsModule();
  const paths = flags.pacts ?? [defaultPactDir()];
  const all = await readPacts(paths);
  const pacts = all.filter((p) => (!flags.provider || p.provider === flags.provider) && (!flags.consumers || flags.consumers.includes(p.consumer)));
  if (flags.json) {
    console.log(JSON.stringify(pacts, null, 2));
    return 0;
  }
  if (pacts.length === 0) {
    const filtered = all.length > 0 ? `; the pacts there are ${[...new Set(all.map((p) => `${p.consumer} -> ${p.provider}`))].join(', ')}` : '';
    console.log(all.length > 0 ? `No pact files match --provider / --consumer in ${paths.join(', ')}${filtered}.` : 'No pact files found.');
    return 0;
  }
  for (const p of pacts) {
    console.log(`${p.consumer} -> ${p.provider}  (pact ${p.specification}, ${p.interactions.length} interaction(s))  ${p.file}`);
    for (const i of p.interactions) {
      const given = i.states.length > 0 ? `  given ${i.states.join(', ')}` : '';
      console.log(`  - "${i.description}"  [${i.transport}]${given}`);
    }
  }
  return 0;
}

export async function contractsCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'verify' && sub !== 'list') {
    console.error(`eda-harness contracts: ${sub === undefined ? 'a subcommand is needed: verify or list' : `unknown subcommand "${sub}"`}\n\n${CONTRACTS_HELP}`);
    return 2;
  }
  try {
    return sub === 'verify' ? await verify(parseFlags(sub, rest)) : await list(parseFlags(sub, rest));
  } catch (err) {
    // Nothing could be verified: distinct from a broken contract (1), so CI can tell them apart.
    if (err instanceof EdaHarnessError) {
      console.error(`eda-harness contracts ${sub}: ${err.describe()}`);
      return 2;
    }
    throw err;
  }
}
