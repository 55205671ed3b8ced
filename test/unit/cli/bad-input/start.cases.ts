import type { BadInputCase } from '../../../support/bad-input';

/**
 * `start` (the demo). Every flag and variable is checked before the environment starts; no case
 * may provision or start anything. As a safety net, should a check regress, each case (but those
 * about the variables themselves) runs with the external provider on ports nobody listens on,
 * which installs and starts nothing.
 */
const EXTERNAL = { EDA_HARNESS_PROVIDER: 'external', KAFKA_BROKERS: '127.0.0.1:1', AMQP_URL: 'amqp://127.0.0.1:1' };

const start = (name: string, argv: readonly string[], message: string | RegExp): BadInputCase => ({ name, argv: ['start', ...argv], env: EXTERNAL, exit: 2, message });

export const cases: readonly BadInputCase[] = [
  start('an unknown flag', ['--bogus'], "Unknown option '--bogus'"),
  start('an argument', ['now'], "Unexpected argument 'now'"),
  start('--rate abc', ['--rate', 'abc'], '--rate must be a number of orders per second above 0, at most 1000 (got "abc")'),
  start('--rate 0 (would schedule orders every 1 ms)', ['--rate', '0'], '--rate must be a number of orders per second above 0, at most 1000 (got "0")'),
  start('--rate -5', ['--rate=-5'], '--rate must be a number of orders per second'),
  start('--rate 1e9', ['--rate', '1e9'], '--rate must be a number of orders per second above 0, at most 1000 (got "1e9")'),
  start("--rate ''", ['--rate', ''], '--rate must be a number of orders per second above 0, at most 1000 (got "")'),
  start('--rate without a value', ['--rate'], "Option '--rate <value>' argument missing"),
  start('--duration soon', ['--duration', 'soon'], '--duration must be a number of seconds above 0, at most 2147483 (about 24 days) (got "soon")'),
  start('--duration 0', ['--duration', '0'], '--duration must be a number of seconds above 0'),
  start('--duration beyond what a timer can wait (it would fire at once)', ['--duration', '3000000'], '--duration must be a number of seconds above 0, at most 2147483'),
  start('--duration Infinity', ['--duration', 'Infinity'], '--duration must be a number of seconds'),
  start('--interval 0', ['--interval', '0'], '--interval must be a number of seconds from 1 to 86400 (got "0")'),
  start('--interval 1e10 (a timer overflow)', ['--interval', '1e10'], '--interval must be a number of seconds from 1 to 86400 (got "1e10")'),
  start('--interval x', ['--interval', 'x'], '--interval must be a number of seconds from 1 to 86400'),
  start('--metrics-port 70000', ['--metrics-port', '70000'], '--metrics-port must be a port number from 0 to 65535 (0: any free port) (got "70000")'),
  start('--metrics-port 1.5', ['--metrics-port', '1.5'], '--metrics-port must be a port number from 0 to 65535 (got "1.5")'),
  start("--metrics-port ''", ['--metrics-port', ''], '--metrics-port must be a port number from 0 to 65535'),
  start('--metrics-port http', ['--metrics-port', 'http'], '--metrics-port must be a port number'),
  start("--metrics-host 'not a host'", ['--metrics-host', 'not a host'], '--metrics-host must be an IP address or host name of this machine (got "not a host")'),
  start("--metrics-host ''", ['--metrics-host', ''], '--metrics-host must be an IP address or host name of this machine (got "")'),
  start('--no-jaeger with a value', ['--no-jaeger=yes'], "Option '--no-jaeger' does not take an argument"),
  start('--metrics-host an address this machine does not have', ['--metrics-host', '203.0.113.7', '--metrics-port', '0'], 'cannot serve /metrics on --metrics-host 203.0.113.7 --metrics-port 0: this machine has no such address (EADDRNOTAVAIL)'),
  { ...start('--metrics-host a name that does not resolve', ['--metrics-host', 'no-such-host.invalid', '--metrics-port', '0'], /cannot serve \/metrics on --metrics-host no-such-host\.invalid --metrics-port 0: no such host/), deadlineMs: 40_000 }, // (a resolver without network may take its time)

  start('--kafka-security tls', ['--kafka-security', 'tls'], '--kafka-security must be one of plaintext, sasl_ssl (got "tls")'),
  { name: 'KAFKA_TLS_CA_FILE that holds no certificate', argv: ['start', '--metrics-port', '0'], env: { ...EXTERNAL, KAFKA_SECURITY_PROTOCOL: 'ssl', KAFKA_TLS_CA_FILE: '{dir}/ca.der' }, files: { 'ca.der': 'not PEM' }, exit: 2, message: 'the Kafka CA file (KAFKA_TLS_CA_FILE) {dir}/ca.der holds no PEM certificate' },
  { name: 'KAFKA_SASL_MECHANISM without a user', argv: ['start', '--metrics-port', '0'], env: { ...EXTERNAL, KAFKA_SASL_MECHANISM: 'plain' }, exit: 2, message: 'SASL mechanism PLAIN needs a user name: give KAFKA_SASL_USERNAME' },

  // Variables: a typo in EDA_HARNESS_PROVIDER must not provision native brokers.
  { name: 'EDA_HARNESS_PROVIDER=bogus', argv: ['start', '--metrics-port', '0'], env: { EDA_HARNESS_PROVIDER: 'bogus', KAFKA_BROKERS: '127.0.0.1:1', AMQP_URL: 'amqp://127.0.0.1:1' }, exit: 2, message: 'EDA_HARNESS_PROVIDER must be one of auto, external, containers, native (got "bogus")' },
  {
    name: "KAFKA_BROKERS='garbage, ,not a host:abc' with the external provider",
    argv: ['start', '--metrics-port', '0'],
    env: { ...EXTERNAL, KAFKA_BROKERS: 'garbage, ,not a host:abc' },
    exit: 2,
    message: 'KAFKA_BROKERS has invalid entries: "garbage": expected host:port',
  },
  { name: 'AMQP_URL that is not a URL', argv: ['start', '--metrics-port', '0'], env: { ...EXTERNAL, AMQP_URL: 'rabbit' }, exit: 2, message: 'AMQP_URL "rabbit": it is not a URL' },
  { name: 'EDA_HARNESS_RUNS that cannot be created (no hang)', argv: ['start', '--metrics-port', '0'], env: { ...EXTERNAL, EDA_HARNESS_RUNS: '/proc/forbidden' }, exit: 2, message: 'Cannot create the runs directory' },
];
