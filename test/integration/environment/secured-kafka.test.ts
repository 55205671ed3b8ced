import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel, type KafkaConfig, type SASLOptions } from 'kafkajs';
import { Environment, type KafkaSecurity, type StartedEnvironment } from '../../../environment/index';
import { waitFor } from '../../../core/wait-for';
import { uniqueName } from '../../support/names';

/**
 * The native environment's secured Kafka: a SASL_SSL listener with SCRAM users and a certificate
 * made at start with keytool, behind Toxiproxy. Clients are checked as operators' clients connect:
 * TLS against the CA, then SCRAM; wrong credentials and a client without TLS fail fast.
 */
let env: StartedEnvironment;
let security: KafkaSecurity;

beforeAll(async () => {
  env = await new Environment().withKafka({ security: 'sasl_ssl' }).withToxiproxy().start();
  security = env.getKafkaSecurity();
}, 180_000);

afterAll(async () => {
  await env?.stop();
});

/**
 * SCRAM options as a new object: kafkajs stores its authenticator, bound to the credentials, on the
 * `sasl` object it is given, so a spread copy of a used one (`{ ...used, password: 'wrong' }`)
 * would still authenticate with the old password.
 */
function scram(mechanism: 'scram-sha-256' | 'scram-sha-512', username: string, password: string): SASLOptions {
  return { mechanism, username, password };
}

/**
 * A client of the secured listener; `overrides` replaces any part (sasl, ssl) of the good one. No
 * retries: a refused client must fail at its first attempt.
 */
function securedClient(overrides: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({
    clientId: uniqueName('secured-test'),
    brokers: security.brokers,
    ssl: { ca: [security.ssl.caPem] },
    sasl: scram('scram-sha-512', security.sasl.username, security.sasl.password),
    logLevel: process.env['E1_DEBUG'] ? logLevel.DEBUG : logLevel.NOTHING,
    connectionTimeout: 3000,
    authenticationTimeout: 3000,
    retry: { retries: 0 },
    ...overrides,
  });
}

async function roundTrip(kafka: Kafka): Promise<void> {
  const topic = uniqueName('secured');
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer();
  const consumer = kafka.consumer({ groupId: uniqueName('g'), maxWaitTimeInMs: 50 });
  const received: string[] = [];
  try {
    await producer.connect();
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void received.push(message.value?.toString() ?? '') });
    const value = uniqueName('m');
    await producer.send({ topic, acks: -1, messages: [{ value }] });
    await waitFor(() => received.includes(value), { description: `message ${value} to be consumed over SASL_SSL`, timeoutMs: 30_000, intervalMs: 10 });
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
  }
}

/** How `attempt` fails, and how long it took to. */
async function failure(attempt: () => Promise<unknown>): Promise<{ error: Error; ms: number }> {
  const started = Date.now();
  try {
    await attempt();
  } catch (error) {
    return { error: error as Error, ms: Date.now() - started };
  }
  throw new Error('expected the connection to fail, and it succeeded');
}

function errorCause(error: Error): Error | undefined {
  return error.cause instanceof Error ? error.cause : undefined;
}

it('advertises the SASL_SSL listener through its own proxy, with the CA, the SCRAM-SHA-512 user and every user', () => {
  const node = env.kafka?.node(1);
  expect(node?.secureProxy).toBeDefined();
  expect(security.protocol).toBe('SASL_SSL');
  expect(security.brokers).toEqual([`127.0.0.1:${node?.secureProxy?.port}`]);
  expect(security.brokers).not.toEqual(env.getKafkaBrokers());
  expect(security.ssl.caPem).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n?$/);
  expect(readFileSync(security.ssl.caFile, 'utf8')).toBe(security.ssl.caPem);
  expect(security.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'eda-harness', password: expect.stringMatching(/^[0-9a-f]{36}$/) });
  expect(security.users.map((u) => [u.username, u.mechanisms])).toEqual([
    ['eda-harness', ['scram-sha-512', 'scram-sha-256']],
    ['eda-sha256-only', ['scram-sha-256']],
  ]);
  for (const u of security.users) {
    expect(readFileSync(u.passwordFile, 'utf8')).toBe(u.password);
    expect(statSync(u.passwordFile).mode & 0o777).toBe(0o600);
  }
  // Everything lives in the run directory, which stop() removes.
  for (const file of [security.ssl.caFile, security.ssl.truststoreFile, ...security.users.map((u) => u.passwordFile)]) expect(file.startsWith(env.runDir)).toBe(true);
});

it('records the secured listener in environment.json by file names, never the passwords', () => {
  const written = readFileSync(join(env.runDir, 'environment.json'), 'utf8');
  expect(JSON.parse(written).kafka.security).toEqual({
    protocol: 'SASL_SSL',
    brokers: security.brokers,
    caFile: security.ssl.caFile,
    truststoreFile: security.ssl.truststoreFile,
    mechanism: 'scram-sha-512',
    username: 'eda-harness',
    passwordFile: security.users[0]?.passwordFile,
  });
  for (const u of security.users) expect(written).not.toContain(u.password);
  expect(written).not.toContain(security.ssl.truststorePassword);
});

it('produces and consumes over SASL_SSL with SCRAM-SHA-512', async () => {
  // Retries as usual: the first group of a new cluster waits for its coordinator.
  await roundTrip(securedClient({ retry: { retries: 5 } }));
});

it('produces and consumes over SASL_SSL with SCRAM-SHA-256', async () => {
  const user = security.users[1];
  if (!user) throw new Error('no second user');
  await roundTrip(securedClient({ sasl: scram('scram-sha-256', user.username, user.password), retry: { retries: 5 } }));
});

it('keeps the plaintext listener for plaintext clients', async () => {
  const admin = new Kafka({ clientId: 'plain-test', brokers: env.getKafkaBrokers(), logLevel: logLevel.NOTHING, retry: { retries: 1 } }).admin();
  await admin.connect();
  await expect(admin.describeCluster()).resolves.toMatchObject({ brokers: [{ nodeId: 1 }] });
  await admin.disconnect();
});

describe('clients that must be refused', () => {
  const saslError = /SASL SCRAM SHA512 authentication failed: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512/;

  it('a wrong password fails within a few seconds with kafkajs SASL authentication error, not a retry loop', async () => {
    const admin = securedClient({ sasl: scram('scram-sha-512', security.sasl.username, 'wrong') }).admin();
    const { error, ms } = await failure(() => admin.connect());
    await admin.disconnect().catch(() => undefined);
    expect(error.name).toBe('KafkaJSSASLAuthenticationError');
    expect(error.message).toMatch(saslError);
    expect(ms).toBeLessThan(5_000);
  });

  it('an unknown user fails the same way', async () => {
    const admin = securedClient({ sasl: scram('scram-sha-512', 'nobody', security.sasl.password) }).admin();
    const { error } = await failure(() => admin.connect());
    await admin.disconnect().catch(() => undefined);
    expect(error.name).toBe('KafkaJSSASLAuthenticationError');
    expect(error.message).toMatch(saslError);
  });

  it('a user without SCRAM-SHA-512 credentials is refused that mechanism', async () => {
    const user = security.users[1];
    if (!user) throw new Error('no second user');
    const admin = securedClient({ sasl: scram('scram-sha-512', user.username, user.password) }).admin();
    const { error } = await failure(() => admin.connect());
    await admin.disconnect().catch(() => undefined);
    expect(error.name).toBe('KafkaJSSASLAuthenticationError');
  });

  it('a client without TLS fails fast', async () => {
    const admin = securedClient({ ssl: false, requestTimeout: 3000 }).admin();
    const { error, ms } = await failure(() => admin.connect());
    await admin.disconnect().catch(() => undefined);
    // The broker drops bytes that are not TLS at once; kafkajs wraps the connection error.
    expect([error.name, errorCause(error)?.name]).toEqual(['KafkaJSNumberOfRetriesExceeded', 'KafkaJSConnectionClosedError']);
    expect(error.message).toBe('Closed connection');
    expect(ms).toBeLessThan(5_000);
  });

  it('a TLS client that does not trust the CA fails on the certificate', async () => {
    const admin = securedClient({ ssl: true }).admin();
    const { error } = await failure(() => admin.connect());
    await admin.disconnect().catch(() => undefined);
    expect([error.name, errorCause(error)?.name]).toEqual(['KafkaJSNumberOfRetriesExceeded', 'KafkaJSConnectionError']);
    expect(error.message).toBe('Connection error: self-signed certificate in certificate chain');
  });
});

