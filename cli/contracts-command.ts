import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, EdaHarnessError } from '@eda-harness/core';
import type { MessageProviderDefinition } from '@eda-harness/contracts';

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
  --no-broker                ignore PACT_BROKER_* variables and use local pacts
  --report-json <file>       also write the verification report as JSON (verify)
  --json                     print the list as JSON (list)

A Pact Broker is used when PACT_BROKER_BASE_URL is set (with PACT_BROKER_TOKEN or
PACT_BROKER_USERNAME / PACT_BROKER_PASSWORD); PACT_CONSUMER_VERSION_SELECTORS (JSON array),
PACT_PROVIDER_VERSION, PACT_PROVIDER_BRANCH, PACT_PUBLISH_VERIFICATION_RESULTS=true,
PACT_ENABLE_PENDING and PACT_INCLUDE_WIP_PACTS_SINCE configure it. It is never required.

Exit codes: 0 every interaction verified; 1 a contract is broken (the report says which
interaction and which field); 2 nothing could be verified (bad options, no pacts, bad module).

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
  json: boolean;
}

function parseFlags(argv: string[]): ContractsFlags {
  const { values } = parseArgs({
    args: argv,
    options: {
      pacts: { type: 'string', multiple: true },
      provider: { type: 'string' },
      'provider-module': { type: 'string' },
      consumer: { type: 'string', multiple: true },
      'no-broker': { type: 'boolean' },
      'report-json': { type: 'string' },
      json: { type: 'boolean' },
    },
    strict: true,
  });
  return {
    pacts: values.pacts,
    provider: values.provider,
    providerModule: values['provider-module'],
    consumers: values.consumer,
    noBroker: values['no-broker'] ?? false,
    reportJson: values['report-json'],
    json: values.json ?? false,
  };
}

/** Loads a provider definition: default export, `provider` export, the module itself, or a factory of one. */
export function loadProviderModule(file: string): MessageProviderDefinition {
  const path = resolve(file);
  let mod: unknown;
  try {
    mod = require(path);
  } catch (err) {
    throw new ConfigError(`cannot load provider module ${path}: ${(err as Error).message}`, { cause: err });
  }
  const m = mod as Record<string, unknown>;
  for (const candidate of [m['default'], m['provider'], mod]) {
    const value = typeof candidate === 'function' ? (candidate as () => unknown)() : candidate;
    if (isDefinition(value)) return value;
  }
  throw new ConfigError(`${path} exports no provider definition`, { hint: 'export default { provider: "name", messages: { "<interaction description>": async () => capturedMessage } }' });
}

function isDefinition(v: unknown): v is MessageProviderDefinition {
  return typeof v === 'object' && v !== null && typeof (v as { provider?: unknown }).provider === 'string' && typeof (v as { messages?: unknown }).messages === 'object';
}

async function verify(flags: ContractsFlags): Promise<number> {
  const { formatReport, verifyProvider } = await contractsModule();
  const definition = flags.providerModule ? loadProviderModule(flags.providerModule) : (await import('@eda-harness/examples')).orderServiceProvider();
  if (flags.provider && flags.provider !== definition.provider) {
    throw new ConfigError(`--provider ${flags.provider} does not match the provider module, which defines "${definition.provider}"`);
  }
  const report = await verifyProvider(definition, {
    ...(flags.pacts ? { pacts: flags.pacts } : {}),
    ...(flags.consumers ? { consumers: flags.consumers } : {}),
    ...(flags.noBroker ? { broker: false as const } : {}),
  });
  // Pact's verifier prints its own detailed log above; this is the summary CI readers look for.
  console.log(`\n${formatReport(report)}`);
  if (flags.reportJson) writeFileSync(flags.reportJson, `${JSON.stringify(report, null, 2)}\n`);
  return report.passed ? 0 : 1;
}

async function list(flags: ContractsFlags): Promise<number> {
  const { defaultPactDir, findPactFiles, readPact } = await contractsModule();
  const pacts = findPactFiles(flags.pacts ?? [defaultPactDir()])
    .map(readPact)
    .filter((p) => (!flags.provider || p.provider === flags.provider) && (!flags.consumers || flags.consumers.includes(p.consumer)));
  if (flags.json) {
    console.log(JSON.stringify(pacts, null, 2));
    return 0;
  }
  if (pacts.length === 0) {
    console.log('No pact files found.');
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
  try {
    if (sub === 'verify') return await verify(parseFlags(rest));
    if (sub === 'list') return await list(parseFlags(rest));
  } catch (err) {
    // Nothing could be verified: distinct from a broken contract (1), so CI can tell them apart.
    if (err instanceof EdaHarnessError) {
      console.error(`eda-harness contracts ${sub}: ${err.describe()}`);
      return 2;
    }
    throw err;
  }
  console.error(`eda-harness contracts: unknown subcommand "${sub ?? ''}"\n\n${CONTRACTS_HELP}`);
  return 2;
}
