import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serverProperties } from '../../../environment/native/kafka';
import { checkKafkaSecurity, findKeytool, planSecurity, scramFormatArgs, secureListenerProperties } from '../../../environment/native/kafka-security';
import { Environment } from '../../../environment/environment';
import { StartedEnvironment } from '../../../environment/started-environment';
import type { EnvironmentProvider, ProviderRegistry } from '../../../environment/provider';
import type { KafkaSecurity, StartedKafka } from '../../../environment/types';
import { ConfigError, PrerequisiteError } from '../../../core/errors';
import { silentProgress } from '../../../core/progress';

/** The secured Kafka's pieces that need no broker: properties, SCRAM arguments, secrets, checks. */

function parse(props: string): Record<string, string> {
  return Object.fromEntries(props.trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2) as [string, string]));
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kafka-security-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the SASL_SSL listener in server.properties', () => {
  const ports = { client: 1001, internal: 1002, controller: 1003, advertised: 2001, secure: 1004, secureAdvertised: 2004 };
  const voters = [{ nodeId: 1, controller: 1003 }];
  const secure = secureListenerProperties({ keystoreFile: '/r/broker.p12', keystorePassword: 'k' });

  it('adds a SECURE listener (SASL_SSL) advertised through its proxy, beside the plaintext ones', () => {
    const p = parse(serverProperties({ nodeId: 1, ports, voters, logDir: '/d', clusterSize: 1, secure }));
    expect(p['listeners']).toBe('CLIENT://127.0.0.1:1001,INTERNAL://127.0.0.1:1002,CONTROLLER://127.0.0.1:1003,SECURE://127.0.0.1:1004');
    expect(p['advertised.listeners']).toBe('CLIENT://127.0.0.1:2001,INTERNAL://127.0.0.1:1002,SECURE://127.0.0.1:2004');
    expect(p['listener.security.protocol.map']).toBe('CLIENT:PLAINTEXT,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT,SECURE:SASL_SSL');
    // Replication stays on the plaintext INTERNAL listener.
    expect(p['inter.broker.listener.name']).toBe('INTERNAL');
  });

  it('enables both SCRAM mechanisms and serves the keystore on that listener only, without client certificates', () => {
    const p = parse(serverProperties({ nodeId: 1, ports, voters, logDir: '/d', clusterSize: 1, secure }));
    expect(p['listener.name.secure.sasl.enabled.mechanisms']).toBe('SCRAM-SHA-256,SCRAM-SHA-512');
    expect(p['listener.name.secure.scram-sha-512.sasl.jaas.config']).toBe('org.apache.kafka.common.security.scram.ScramLoginModule required;');
    expect(p['listener.name.secure.scram-sha-256.sasl.jaas.config']).toBe('org.apache.kafka.common.security.scram.ScramLoginModule required;');
    expect(p['listener.name.secure.ssl.keystore.location']).toBe('/r/broker.p12');
    expect(p['listener.name.secure.ssl.keystore.type']).toBe('PKCS12');
    expect(p['listener.name.secure.ssl.client.auth']).toBe('none');
  });

  it('is absent from a plaintext Kafka', () => {
    const p = parse(serverProperties({ nodeId: 1, ports: { client: 1001, internal: 1002, controller: 1003, advertised: 2001 }, voters, logDir: '/d', clusterSize: 1 }));
    expect(p['listeners']).not.toContain('SECURE');
    expect(Object.keys(p).filter((k) => k.includes('sasl') || k.includes('ssl'))).toEqual([]);
  });
});

describe('SCRAM users and secrets', () => {
  it('makes random passwords of letters and digits, each in its own private file in the run directory', () => {
    const a = planSecurity(dir);
    const b = planSecurity(join(dir, 'other'));
    expect(a.users.map((u) => u.username)).toEqual(['eda-harness', 'eda-sha256-only']);
    for (const u of a.users) {
      expect(u.password).toMatch(/^[0-9a-f]{36}$/);
      expect(readFileSync(u.passwordFile, 'utf8')).toBe(u.password);
      expect(statSync(u.passwordFile).mode & 0o777).toBe(0o600);
      expect(u.passwordFile.startsWith(join(dir, 'kafka-security'))).toBe(true);
    }
    expect(statSync(a.dir).mode & 0o777).toBe(0o700);
    expect(a.users[0]?.password).not.toBe(b.users[0]?.password);
    expect(a.keystorePassword).not.toBe(a.truststorePassword);
  });

  it('creates every user with each of its mechanisms when the storage is formatted', () => {
    const users = [
      { username: 'u1', password: 'p1', passwordFile: '/f1', mechanisms: ['scram-sha-512', 'scram-sha-256'] as const },
      { username: 'u2', password: 'p2', passwordFile: '/f2', mechanisms: ['scram-sha-256'] as const },
    ];
    expect(scramFormatArgs(users)).toEqual([
      '--add-scram',
      'SCRAM-SHA-512=[name=u1,password=p1]',
      '--add-scram',
      'SCRAM-SHA-256=[name=u1,password=p1]',
      '--add-scram',
      'SCRAM-SHA-256=[name=u2,password=p2]',
    ]);
  });
});

describe('checks', () => {
  it('accepts plaintext and sasl_ssl, and names the option and the choices otherwise', () => {
    expect(checkKafkaSecurity('sasl_ssl', 'x')).toBe('sasl_ssl');
    expect(checkKafkaSecurity('plaintext', 'x')).toBe('plaintext');
    expect(() => checkKafkaSecurity('SASL_SSL', '--kafka-security')).toThrow(new ConfigError('--kafka-security must be one of plaintext, sasl_ssl (got "SASL_SSL")'));
  });

  it('withKafka refuses an unknown security mode before anything starts', () => {
    expect(() => new Environment().withKafka({ security: 'tls' as 'sasl_ssl' })).toThrow('withKafka: security must be one of plaintext, sasl_ssl (got "tls")');
  });

  it('finds keytool next to java, and says what to install when there is none', () => {
    const keytool = findKeytool('/usr/bin/java');
    expect(keytool).toMatch(/keytool$/);
    const path = process.env['PATH'];
    process.env['PATH'] = '';
    try {
      let error: unknown;
      try {
        findKeytool(join(dir, 'bin', 'java'));
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(PrerequisiteError);
      expect((error as PrerequisiteError).message).toContain("A secured Kafka needs the JDK's keytool");
      expect((error as PrerequisiteError).hint).toContain('openjdk-17-jre-headless');
    } finally {
      process.env['PATH'] = path;
    }
  });

  it('a secured Kafka needs the native provider: a forced other provider is refused before anything is prepared', async () => {
    const prepared: string[] = [];
    const fake = (kind: 'native' | 'containers' | 'external') => (): EnvironmentProvider => ({
      kind,
      prepare: async () => void prepared.push(kind),
      startKafka: async () => {
        throw new Error('unused');
      },
      startRabbitMq: async () => {
        throw new Error('unused');
      },
      startPrometheus: async () => {
        throw new Error('unused');
      },
      startJaeger: async () => {
        throw new Error('unused');
      },
    });
    const providers: ProviderRegistry = { native: fake('native'), containers: fake('containers'), external: fake('external') };
    const start = new Environment(providers).withProvider('containers').withKafka({ security: 'sasl_ssl' }).withRunDir(join(dir, 'run')).withProgress(silentProgress).start();
    await expect(start).rejects.toThrow("withKafka({ security: 'sasl_ssl' }) needs the native provider, but Kafka would come from the containers provider");
    expect(prepared).toEqual([]);
  });
});

describe('getKafkaSecurity()', () => {
  const plainKafka = (security?: KafkaSecurity): StartedKafka => ({
    provider: 'native',
    version: 'fake',
    brokers: ['127.0.0.1:1'],
    nodes: [],
    node: () => {
      throw new Error('unused');
    },
    leaderOf: async () => {
      throw new Error('unused');
    },
    ...(security ? { security } : {}),
  });
  const started = (): StartedEnvironment => new StartedEnvironment(join(dir, 'run'), { keepRunDir: true, graceMs: 0, cleanupOnExit: false, signalHandlers: false });

  it('says how to get a secured Kafka when this one is plaintext, or there is no Kafka', async () => {
    const env = started();
    expect(() => env.getKafkaSecurity()).toThrow(ConfigError);
    env.kafka = plainKafka();
    expect(() => env.getKafkaSecurity()).toThrow("this environment's Kafka has no SASL_SSL listener: build it with withKafka({ security: 'sasl_ssl' })");
    await env.stop();
  });

  it('gives each caller its own copy, and the description records files, never secrets', async () => {
    const env = started();
    const user = { username: 'eda-harness', password: 'secret-pw', passwordFile: '/r/eda-harness.password', mechanisms: ['scram-sha-512' as const] };
    env.kafka = plainKafka({
      protocol: 'SASL_SSL',
      brokers: ['127.0.0.1:2'],
      ssl: { caPem: 'PEM', caFile: '/r/ca.pem', truststoreFile: '/r/truststore.p12', truststorePassword: 'trust-pw' },
      sasl: { mechanism: 'scram-sha-512', username: 'eda-harness', password: 'secret-pw' },
      users: [user],
    });
    const first = env.getKafkaSecurity();
    first.brokers.push('mutated');
    (first.sasl as { password: string }).password = 'mutated';
    expect(env.getKafkaSecurity().brokers).toEqual(['127.0.0.1:2']);
    expect(env.getKafkaSecurity().sasl.password).toBe('secret-pw');
    const described = JSON.stringify(env.describe());
    expect(env.describe().kafka?.security).toEqual({
      protocol: 'SASL_SSL',
      brokers: ['127.0.0.1:2'],
      caFile: '/r/ca.pem',
      truststoreFile: '/r/truststore.p12',
      mechanism: 'scram-sha-512',
      username: 'eda-harness',
      passwordFile: '/r/eda-harness.password',
    });
    expect(described).not.toContain('secret-pw');
    expect(described).not.toContain('trust-pw');
    await env.stop();
  });
});
