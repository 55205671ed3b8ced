import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigError, PrerequisiteError, ensureDir } from '@eda-harness/core';
import { which } from '../install';
import type { KafkaScramUser, KafkaSecurity, KafkaSecurityMode, ScramMechanism } from '../types';

/**
 * The secured Kafka of the native provider: a SASL_SSL listener whose certificate, for localhost
 * and 127.0.0.1, is signed by a CA made at start with the JDK's keytool, and SCRAM users written
 * into the cluster metadata when the storage is formatted (KRaft has no ZooKeeper to put them in
 * before the brokers start). Everything lives in the run directory and dies with it.
 */

export const KAFKA_SECURITY_MODES: readonly KafkaSecurityMode[] = ['plaintext', 'sasl_ssl'];

/** `value` as a security mode (`source` names the option, for the message); anything else is a ConfigError. */
export function checkKafkaSecurity(value: string, source: string): KafkaSecurityMode {
  if ((KAFKA_SECURITY_MODES as readonly string[]).includes(value)) return value as KafkaSecurityMode;
  throw new ConfigError(`${source} must be one of ${KAFKA_SECURITY_MODES.join(', ')} (got "${value}")`);
}

const MECHANISM_NAME: Readonly<Record<ScramMechanism, string>> = { 'scram-sha-256': 'SCRAM-SHA-256', 'scram-sha-512': 'SCRAM-SHA-512' };

/**
 * The users made at start: the default one with both mechanisms (the one `sasl` names), and one
 * with SCRAM-SHA-256 only, so a client asking for the wrong mechanism can be tested.
 */
const USERS: readonly { username: string; mechanisms: readonly ScramMechanism[] }[] = [
  { username: 'eda-harness', mechanisms: ['scram-sha-512', 'scram-sha-256'] },
  { username: 'eda-sha256-only', mechanisms: ['scram-sha-256'] },
];

/** keytool of the JDK that runs Kafka (next to its `java`, following links), else the one on PATH. */
export function findKeytool(java: string): string {
  const candidates = [join(dirname(java), 'keytool')];
  try {
    candidates.push(join(dirname(realpathSync(java)), 'keytool'));
  } catch {
    // `java` is a bare command name: only PATH can tell.
  }
  const found = candidates.find((c) => existsSync(c)) ?? which('keytool');
  if (!found) {
    throw new PrerequisiteError(`A secured Kafka needs the JDK's keytool, and none was found next to ${java} or on PATH.`, {
      hint: 'Install a Java runtime that ships keytool (openjdk-17-jre-headless does), or set JAVA_HOME to a full JDK.',
    });
  }
  return found;
}

/** Random secrets of this run: letters and digits only, so they need no quoting anywhere. */
function secret(): string {
  return randomBytes(18).toString('hex');
}

/** The files and secrets of a secured Kafka, decided before anything runs. */
export interface SecurityPlan {
  readonly dir: string;
  readonly keystoreFile: string;
  readonly keystorePassword: string;
  readonly truststoreFile: string;
  readonly truststorePassword: string;
  readonly caFile: string;
  readonly users: readonly KafkaScramUser[];
}

/** Chooses the secrets and writes each user's password file (mode 600) in `runDir`/kafka-security. */
export function planSecurity(runDir: string): SecurityPlan {
  const dir = ensureDir(join(runDir, 'kafka-security'), { mode: 0o700, what: 'the Kafka security folder' });
  const users = USERS.map((u) => {
    const password = secret();
    const passwordFile = join(dir, `${u.username}.password`);
    writeFileSync(passwordFile, password, { mode: 0o600 });
    return { ...u, password, passwordFile };
  });
  return {
    dir,
    keystoreFile: join(dir, 'broker.p12'),
    keystorePassword: secret(),
    truststoreFile: join(dir, 'truststore.p12'),
    truststorePassword: secret(),
    caFile: join(dir, 'ca.pem'),
    users,
  };
}

/** The `--add-scram` arguments of `kafka-storage format` that create every user. */
export function scramFormatArgs(users: readonly KafkaScramUser[]): string[] {
  return users.flatMap((u) => u.mechanisms.flatMap((m) => ['--add-scram', `${MECHANISM_NAME[m]}=[name=${u.username},password=${u.password}]`]));
}

/** server.properties entries of the SECURE (SASL_SSL) listener; the listener itself is named by serverProperties. */
export function secureListenerProperties(plan: Pick<SecurityPlan, 'keystoreFile' | 'keystorePassword'>): Record<string, string> {
  const jaas = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';
  return {
    'listener.name.secure.sasl.enabled.mechanisms': 'SCRAM-SHA-256,SCRAM-SHA-512',
    'listener.name.secure.scram-sha-256.sasl.jaas.config': jaas,
    'listener.name.secure.scram-sha-512.sasl.jaas.config': jaas,
    'listener.name.secure.ssl.keystore.type': 'PKCS12',
    'listener.name.secure.ssl.keystore.location': plan.keystoreFile,
    'listener.name.secure.ssl.keystore.password': plan.keystorePassword,
    'listener.name.secure.ssl.key.password': plan.keystorePassword,
    // One-way TLS: the client checks the broker, SCRAM authenticates the client.
    'listener.name.secure.ssl.client.auth': 'none',
  };
}

/** One keytool invocation; `run` spawns it (the caller's runner, which logs and names failures). */
export type RunTool = (args: readonly string[], what: string) => Promise<void>;

/**
 * Makes the CA, the broker's key pair and its certificate for localhost and 127.0.0.1 signed by the
 * CA (in the PKCS12 keystore the listener serves, with the CA in its chain), the CA as PEM for Node
 * clients and a PKCS12 truststore for Java ones. Independent steps run side by side: each keytool
 * call is a JVM start, and the chain is five of them long.
 */
export async function makeCertificates(plan: SecurityPlan, run: RunTool): Promise<void> {
  const caStore = join(plan.dir, 'ca.p12');
  const caPassword = secret();
  const csr = join(plan.dir, 'broker.csr');
  const cert = join(plan.dir, 'broker.crt');
  const chain = join(plan.dir, 'broker-chain.pem');
  const san = 'SAN=dns:localhost,ip:127.0.0.1';
  // Client JVM flags: keytool's work is tiny, its JVM start-up is what costs.
  const jvm = ['-J-XX:TieredStopAtLevel=1', '-J-XX:+UseSerialGC'];
  const keyPair = (store: string, password: string, alias: string, dname: string, ext: string): readonly string[] => [
    ...jvm,
    '-genkeypair',
    '-alias',
    alias,
    // EC P-256: as widely supported as RSA by TLS clients, and quicker to generate.
    '-keyalg',
    'EC',
    '-groupname',
    'secp256r1',
    '-validity',
    '30',
    '-dname',
    dname,
    '-ext',
    ext,
    '-storetype',
    'PKCS12',
    '-keystore',
    store,
    '-storepass',
    password,
    '-keypass',
    password,
  ];

  await Promise.all([
    (async () => {
      await run(keyPair(caStore, caPassword, 'ca', 'CN=eda-harness test CA', 'bc:c'), 'making the test CA');
      await run([...jvm, '-exportcert', '-rfc', '-alias', 'ca', '-keystore', caStore, '-storepass', caPassword, '-file', plan.caFile], 'exporting the CA as PEM');
    })(),
    (async () => {
      await run(keyPair(plan.keystoreFile, plan.keystorePassword, 'broker', 'CN=localhost', san), "making the broker's key pair");
      await run([...jvm, '-certreq', '-alias', 'broker', '-keystore', plan.keystoreFile, '-storepass', plan.keystorePassword, '-file', csr], "requesting the broker's certificate");
    })(),
  ]);
  await Promise.all([
    (async () => {
      const sign = ['-gencert', '-rfc', '-validity', '30', '-ext', san, '-ext', 'ku:c=digitalSignature,keyEncipherment', '-ext', 'eku=serverAuth'];
      await run([...jvm, ...sign, '-alias', 'ca', '-keystore', caStore, '-storepass', caPassword, '-infile', csr, '-outfile', cert], "signing the broker's certificate");
      // The reply with its chain (broker, then CA) installs without the CA being trusted first.
      writeFileSync(chain, `${readFileSync(cert, 'utf8')}${readFileSync(plan.caFile, 'utf8')}`);
      await run([...jvm, '-importcert', '-noprompt', '-alias', 'broker', '-keystore', plan.keystoreFile, '-storepass', plan.keystorePassword, '-file', chain], "installing the broker's certificate");
    })(),
    run(
      [...jvm, '-importcert', '-noprompt', '-alias', 'ca', '-storetype', 'PKCS12', '-keystore', plan.truststoreFile, '-storepass', plan.truststorePassword, '-file', plan.caFile],
      'making the truststore',
    ),
  ]);
}

/** What clients are given, once the listeners at `brokers` serve. */
export function kafkaSecurity(plan: SecurityPlan, brokers: readonly string[]): KafkaSecurity {
  const user = plan.users[0];
  if (!user) throw new ConfigError('internal: a secured Kafka without users');
  return {
    protocol: 'SASL_SSL',
    brokers: [...brokers],
    ssl: { caPem: readFileSync(plan.caFile, 'utf8'), caFile: plan.caFile, truststoreFile: plan.truststoreFile, truststorePassword: plan.truststorePassword },
    sasl: { mechanism: 'scram-sha-512', username: user.username, password: user.password },
    users: plan.users,
  };
}
