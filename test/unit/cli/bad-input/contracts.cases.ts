import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BadInputCase } from '../../../support/bad-input';

/**
 * `contracts verify | list`: every flag, bad pact files, bad provider modules, broker variables.
 * No broker is needed: verification captures the provider's messages in memory; an unreachable
 * Pact Broker is a closed local port.
 */
const root = join(__dirname, '..', '..', '..', '..');
const examples = join(root, 'examples', 'dist');
const INVENTORY = readFileSync(join(root, 'pacts', 'inventory-service-order-service.json'), 'utf8');
const NOTIFICATION = readFileSync(join(root, 'pacts', 'notification-service-order-service.json'), 'utf8');
const messagePacts = { 'pacts/a-inventory.json': INVENTORY, 'pacts/c-notification.json': NOTIFICATION };
const HTTP_PACT = JSON.stringify({
  consumer: { name: 'web-shop' },
  provider: { name: 'order-service' },
  interactions: [{ description: 'a request for an order', request: { method: 'GET', path: '/orders/1' }, response: { status: 200, body: { id: '1' } } }],
  metadata: { pactSpecification: { version: '2.0.0' } },
});
const withVersion = (pact: string, version: string) => JSON.stringify({ ...(JSON.parse(pact) as object), metadata: { pactSpecification: { version } } });
const pactWith = (rest: object) => JSON.stringify({ consumer: { name: 'c' }, provider: { name: 'order-service' }, metadata: { pactSpecification: { version: '4.0' } }, ...rest });

const STATE = 'a customer places an order with two lines';
const ORDER_PLACED = 'an OrderPlaced event';
const providerModule = (body: string) => ({ 'provider.js': body });
const renamedTopicModule = providerModule(
  [
    `const { orderServiceProvider } = require(${JSON.stringify(join(examples, 'contracts', 'order-service-provider.js'))});`,
    `const { referenceNames } = require(${JSON.stringify(join(examples, 'reference-names.js'))});`,
    `module.exports = orderServiceProvider({ names: referenceNames(undefined, { ordersTopic: 'orders.v2.placed' }) });`,
  ].join('\n'),
);
const hangingModule = providerModule(`module.exports = { provider: 'order-service', states: { ${JSON.stringify(STATE)}: () => {} }, messages: { ${JSON.stringify(ORDER_PLACED)}: () => new Promise(() => {}) } };`);
const VERIFY = ['contracts', 'verify'];
const LIST = ['contracts', 'list'];
const BROKER_DOWN = { PACT_BROKER_BASE_URL: 'http://127.0.0.1:9' };
const SLOW = 30_000;

export const cases: readonly BadInputCase[] = [
  // Subcommands and unknown arguments.
  { name: 'contracts without a subcommand', argv: ['contracts'], exit: 2, message: 'a subcommand is needed: verify or list' },
  { name: 'an unknown subcommand', argv: ['contracts', 'bogus'], exit: 2, message: 'unknown subcommand "bogus"' },
  { name: 'an unknown flag', argv: [...VERIFY, '--bogus'], exit: 2, message: "Unknown option '--bogus'" },
  { name: 'a positional argument', argv: [...VERIFY, 'pacts'], exit: 2, message: "Unexpected argument 'pacts'" },

  // --pacts: missing, empty, absent, not pacts, HTTP pacts, unknown specifications.
  { name: '--pacts without a value', argv: [...VERIFY, '--pacts'], exit: 2, message: "Option '--pacts <value>' argument missing" },
  { name: "--pacts ''", argv: [...VERIFY, '--pacts', ''], exit: 2, message: '--pacts needs a value, got an empty string' },
  { name: '--pacts pointing nowhere', argv: [...VERIFY, '--pacts', '{dir}/nope'], exit: 2, message: 'no pact file or directory at {dir}/nope' },
  { name: '--pacts: an empty folder', argv: [...VERIFY, '--pacts', '{dir}/tmp'], exit: 2, message: 'no pacts for provider "order-service" in {dir}/tmp' },
  { name: 'a pact file holding null', argv: [...VERIFY, '--pacts', '{dir}/pacts'], files: { 'pacts/a.json': 'null' }, exit: 2, message: '{dir}/pacts/a.json is not a pact file: it holds null, not a JSON object' },
  { name: 'a pact file with interactions: [null]', argv: [...VERIFY, '--pacts', '{dir}/pacts'], files: { 'pacts/a.json': pactWith({ interactions: [null] }) }, exit: 2, message: '{dir}/pacts/a.json: interactions[0] is null, not an interaction' },
  { name: 'list: a pact file with interactions: [null]', argv: [...LIST, '--pacts', '{dir}/pacts'], files: { 'pacts/a.json': pactWith({ interactions: [null] }) }, exit: 2, message: 'interactions[0] is null, not an interaction' },
  { name: 'a pact file that is not JSON', argv: [...VERIFY, '--pacts', '{dir}/pacts/a.json'], files: { 'pacts/a.json': '{"consumer":' }, exit: 2, message: '{dir}/pacts/a.json is not a readable pact file' },
  {
    name: 'a V2 HTTP pact between message pacts: skipped with a note, the others verified',
    argv: [...VERIFY, '--pacts', '{dir}/pacts', '--no-broker'],
    files: { ...messagePacts, 'pacts/b-web-shop.json': HTTP_PACT },
    exit: 0,
    message: /SKIP {2}"a request for an order": not verified, an HTTP interaction[\s\S]*2 interaction\(s\): 2 passed, 0 failed\. 1 skipped/,
    deadlineMs: SLOW,
  },
  { name: 'only HTTP pacts: nothing could be verified', argv: [...VERIFY, '--pacts', '{dir}/pacts'], files: { 'pacts/web.json': HTTP_PACT }, exit: 2, message: 'its pacts hold no message interaction, only 1 skipped one(s)' },
  { name: 'a pact of an unknown specification version', argv: [...VERIFY, '--pacts', '{dir}/pacts'], files: { ...messagePacts, 'pacts/b.json': withVersion(INVENTORY, '5.0.0') }, exit: 2, message: '{dir}/pacts/b.json: pact specification version "5.0.0" is not supported' },
  { name: 'an unreachable pact URL', argv: [...VERIFY, '--pacts', 'http://127.0.0.1:9/pact.json', '--no-broker'], exit: 2, message: 'cannot fetch the pact http://127.0.0.1:9/pact.json' },
  { name: 'list: an unreachable pact URL', argv: [...LIST, '--pacts', 'http://127.0.0.1:9/pact.json'], exit: 2, message: 'cannot fetch the pact http://127.0.0.1:9/pact.json' },

  // --provider
  { name: "--provider ''", argv: [...VERIFY, '--provider', ''], exit: 2, message: '--provider needs a value' },
  { name: '--provider not matching the module', argv: [...VERIFY, '--pacts', '{dir}/pacts', '--provider', 'billing'], files: messagePacts, exit: 2, message: '--provider billing does not match the provider module, which defines "order-service"' },
  { name: 'list --provider matching no pact', argv: [...LIST, '--pacts', '{dir}/pacts', '--provider', 'billing'], files: messagePacts, exit: 0, message: 'No pact files match --provider / --consumer' },

  // --provider-module
  { name: "--provider-module ''", argv: [...VERIFY, '--provider-module', ''], exit: 2, message: '--provider-module needs a value' },
  { name: '--provider-module that does not exist', argv: [...VERIFY, '--provider-module', '{dir}/nope.js'], exit: 2, message: '--provider-module: no file at {dir}/nope.js' },
  { name: '--provider-module with a syntax error', argv: [...VERIFY, '--provider-module', '{dir}/provider.js'], files: providerModule('module.exports = {'), exit: 2, message: 'cannot load provider module {dir}/provider.js: Unexpected end of input' },
  { name: '--provider-module written in TypeScript', argv: [...VERIFY, '--provider-module', '{dir}/provider.ts'], files: { 'provider.ts': 'enum Kind { A }\nconst p: number = Kind.A;\nexport default p;' }, exit: 2, message: 'compile the module first' },
  { name: '--provider-module exporting no definition', argv: [...VERIFY, '--provider-module', '{dir}/provider.js'], files: providerModule('module.exports = { hello: 1 };'), exit: 2, message: '{dir}/provider.js exports no provider definition' },
  {
    name: '--provider-module with a message factory that is not a function',
    argv: [...VERIFY, '--provider-module', '{dir}/provider.js'],
    files: providerModule(`module.exports = { provider: 'order-service', messages: { ${JSON.stringify(ORDER_PLACED)}: 'oops' } };`),
    exit: 2,
    message: `messages["${ORDER_PLACED}"] is string, not a function`,
  },
  { name: '--provider-module whose exported function throws', argv: [...VERIFY, '--provider-module', '{dir}/provider.js'], files: providerModule("module.exports = () => { throw new Error('no database'); };"), exit: 2, message: 'its exported function failed: no database' },
  {
    name: 'a message factory that never resolves fails quickly (and nothing was verified)',
    argv: [...VERIFY, '--pacts', '{dir}/pacts/a-inventory.json', '--provider-module', '{dir}/provider.js', '--factory-timeout', '300', '--no-broker'],
    files: { ...messagePacts, ...hangingModule },
    exit: 2,
    message: /message factory: the factory did not resolve within 300 ms[\s\S]*nothing could be verified: no message factory produced a message/,
    deadlineMs: SLOW,
  },
  {
    name: 'a provider module that renamed the topic: a broken contract',
    argv: [...VERIFY, '--pacts', '{dir}/pacts', '--provider-module', '{dir}/provider.js', '--no-broker'],
    files: { ...messagePacts, ...renamedTopicModule },
    exit: 1,
    message: `inventory-service: "${ORDER_PLACED}": metadata "kafka_topic"`,
    deadlineMs: SLOW,
  },

  // --consumer
  { name: "--consumer ''", argv: [...VERIFY, '--consumer', ''], exit: 2, message: '--consumer needs a value' },
  {
    name: '--consumer with no pact',
    argv: [...VERIFY, '--pacts', '{dir}/pacts', '--consumer', 'billing'],
    files: messagePacts,
    exit: 2,
    message: /no pacts for provider "order-service" from consumer "billing" in .*\n.*the pacts there are: inventory-service -> order-service, notification-service -> order-service/,
  },

  // --no-broker and the PACT_BROKER_* variables
  { name: '--no-broker ignores an unreachable broker', argv: [...VERIFY, '--pacts', '{dir}/pacts', '--no-broker'], env: BROKER_DOWN, files: messagePacts, exit: 0, message: 'Contract verified.', deadlineMs: SLOW },
  { name: 'list --no-broker', argv: [...LIST, '--no-broker'], exit: 2, message: '--no-broker is an option of "contracts verify", not of "contracts list"' },
  { name: 'an unreachable Pact Broker', argv: VERIFY, env: BROKER_DOWN, exit: 2, message: 'cannot reach the Pact Broker at http://127.0.0.1:9/ (PACT_BROKER_BASE_URL): connect ECONNREFUSED' },
  { name: 'PACT_BROKER_BASE_URL that is not a URL', argv: VERIFY, env: { PACT_BROKER_BASE_URL: 'not a url' }, exit: 2, message: 'PACT_BROKER_BASE_URL is not an http(s) URL: "not a url"' },
  { name: 'a broker token and a username both set', argv: VERIFY, env: { ...BROKER_DOWN, PACT_BROKER_TOKEN: 't', PACT_BROKER_USERNAME: 'u', PACT_BROKER_PASSWORD: 'p' }, exit: 2, message: 'PACT_BROKER_TOKEN and PACT_BROKER_USERNAME / PACT_BROKER_PASSWORD are both set' },
  { name: 'PACT_CONSUMER_VERSION_SELECTORS that is not JSON', argv: VERIFY, env: { ...BROKER_DOWN, PACT_CONSUMER_VERSION_SELECTORS: '[{' }, exit: 2, message: 'PACT_CONSUMER_VERSION_SELECTORS is not a JSON array of selectors' },
  { name: 'PACT_ENABLE_PENDING=yes', argv: VERIFY, env: { ...BROKER_DOWN, PACT_ENABLE_PENDING: 'yes' }, exit: 2, message: 'PACT_ENABLE_PENDING must be true or false, not "yes"' },

  // --report-json
  { name: "--report-json ''", argv: [...VERIFY, '--report-json', ''], exit: 2, message: '--report-json needs a value' },
  { name: '--report-json in a folder that cannot be created', argv: [...VERIFY, '--report-json', '/proc/forbidden/report.json'], exit: 2, message: 'Cannot create the --report-json folder /proc/forbidden' },
  { name: '--report-json naming a folder', argv: [...VERIFY, '--report-json', '{dir}'], exit: 2, message: '--report-json {dir} is a folder, not a file' },
  { name: '--report-json under a file', argv: [...VERIFY, '--report-json', '{dir}/pacts/a-inventory.json/report.json'], files: messagePacts, exit: 2, message: 'it exists and is not a folder' },
  { name: 'list --report-json', argv: [...LIST, '--report-json', '{dir}/r.json'], exit: 2, message: '--report-json is an option of "contracts verify"' },

  // --factory-timeout
  { name: '--factory-timeout abc', argv: [...VERIFY, '--factory-timeout', 'abc'], exit: 2, message: '--factory-timeout must be a whole number of milliseconds from 1 to 600000, got "abc"' },
  { name: '--factory-timeout 0', argv: [...VERIFY, '--factory-timeout', '0'], exit: 2, message: 'got "0"' },
  { name: '--factory-timeout beyond ten minutes', argv: [...VERIFY, '--factory-timeout', '600001'], exit: 2, message: 'got "600001"' },
  { name: 'list --factory-timeout', argv: [...LIST, '--factory-timeout', '100'], exit: 2, message: '--factory-timeout is an option of "contracts verify"' },

  // --json
  { name: 'verify --json', argv: [...VERIFY, '--json'], exit: 2, message: '--json is an option of "contracts list", not of "contracts verify"' },
  { name: 'list --json of an HTTP pact names its type', argv: [...LIST, '--json', '--pacts', '{dir}/pacts'], files: { 'pacts/web.json': HTTP_PACT }, exit: 0, message: '"type": "Synchronous/HTTP"' },
];
