import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KafkaConfig } from 'kafkajs';
import { ConfigError, checkKafkaSecuritySettings, isSecured, kafkaClientSecurity, kafkaSecurityFromEnv, securedListenerSettings, tokenOf } from '../../../core/index';
import type { KafkaClientSecurity, KafkaSecurityIo, KafkaSecuritySettings } from '../../../core/index';

const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';

/** Files and commands from a plain object: what was read, and what each command printed. */
function fakeIo(files: Record<string, string>, commands: Record<string, string> = {}): KafkaSecurityIo & { reads: string[]; runs: string[] } {
  const reads: string[] = [];
  const runs: string[] = [];
  return {
    reads,
    runs,
    readText(path) {
      reads.push(path);
      const text = files[path];
      if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      return text;
    },
    async runCommand(command) {
      runs.push(command);
      const out = commands[command];
      if (out === undefined) throw new Error('exit 1: no such command');
      return out;
    },
  };
}

/** What is built must be kafkajs's own options (checked by the compiler). */
const asKafkajs = (s: KafkaClientSecurity): Pick<KafkaConfig, 'ssl' | 'sasl'> => s;

describe('kafkaClientSecurity', () => {
  it('plaintext, no settings, or an empty object: no ssl and no sasl', () => {
    expect(kafkaClientSecurity(undefined)).toEqual({});
    expect(kafkaClientSecurity({})).toEqual({});
    expect(kafkaClientSecurity({ securityProtocol: 'PLAINTEXT' })).toEqual({});
  });

  it('SASL_SSL with SCRAM-SHA-512: the CA and the password read from their files (one trailing newline dropped)', () => {
    const io = fakeIo({ '/ca.pem': `${CA}\n`, '/pw': 's3cret\n' });
    const built = kafkaClientSecurity({ securityProtocol: 'SASL_SSL', tls: { caFile: '/ca.pem' }, sasl: { mechanism: 'SCRAM-SHA-512', username: 'app', passwordFile: '/pw' } }, { io });
    expect(asKafkajs(built)).toEqual({ ssl: { ca: [CA] }, sasl: { mechanism: 'scram-sha-512', username: 'app', password: 's3cret' } });
    expect(io.reads).toEqual(['/ca.pem', '/pw']);
  });

  it.each([
    ['plain', 'sasl_plaintext'],
    ['scram-sha-256', 'sasl_plaintext'],
    ['scram-sha-512', 'sasl_plaintext'],
  ])('%s with an inline password over %s: sasl only, no TLS', (mechanism, securityProtocol) => {
    const built = kafkaClientSecurity({ securityProtocol, sasl: { mechanism, username: 'u', password: 'p' } }, { io: fakeIo({}) });
    expect(built).toEqual({ sasl: { mechanism, username: 'u', password: 'p' } });
  });

  it('mutual TLS: CA, client certificate, key and server name; ssl without a protocol when TLS settings are given', () => {
    const io = fakeIo({ '/ca': CA, '/cert': 'CERT', '/key': 'KEY' });
    expect(kafkaClientSecurity({ tls: { caFile: '/ca', certFile: '/cert', keyFile: '/key', servername: 'kafka.internal' } }, { io })).toEqual({
      ssl: { ca: [CA], cert: 'CERT', key: 'KEY', servername: 'kafka.internal' },
    });
    // SSL with no TLS settings: Node's own CAs.
    expect(kafkaClientSecurity({ securityProtocol: 'ssl' }, { io })).toEqual({ ssl: {} });
  });

  it('OAUTHBEARER from a token file: read at each authentication, so a refreshed token is used', async () => {
    const files: Record<string, string> = { '/token': 'tok-1\n' };
    const built = kafkaClientSecurity({ securityProtocol: 'sasl_ssl', sasl: { mechanism: 'OAUTHBEARER', tokenFile: '/token' } }, { io: fakeIo(files) });
    expect(built.ssl).toEqual({});
    const sasl = built.sasl as { mechanism: string; oauthBearerProvider: () => Promise<{ value: string }> };
    expect(sasl.mechanism).toBe('oauthbearer');
    await expect(sasl.oauthBearerProvider()).resolves.toEqual({ value: 'tok-1' });
    files['/token'] = 'tok-2';
    await expect(sasl.oauthBearerProvider()).resolves.toEqual({ value: 'tok-2' });
  });

  it('OAUTHBEARER from a command: run at each authentication, a JSON token response gives its access_token', async () => {
    const io = fakeIo({}, { 'get-token': '{"access_token":"abc","expires_in":300}\n' });
    const built = kafkaClientSecurity({ securityProtocol: 'sasl_plaintext', sasl: { mechanism: 'oauthbearer', tokenCommand: 'get-token' } }, { io });
    const sasl = built.sasl as { oauthBearerProvider: () => Promise<{ value: string }> };
    await expect(sasl.oauthBearerProvider()).resolves.toEqual({ value: 'abc' });
    await sasl.oauthBearerProvider();
    expect(io.runs).toEqual(['get-token', 'get-token']);
  });

  it('a failing token command is a ConfigError naming the setting and the failure', async () => {
    const built = kafkaClientSecurity({ sasl: { mechanism: 'oauthbearer', tokenCommand: 'nope' } }, { io: fakeIo({}) });
    const sasl = built.sasl as { oauthBearerProvider: () => Promise<{ value: string }> };
    await expect(sasl.oauthBearerProvider()).rejects.toThrow('the Kafka OAUTHBEARER token command (sasl.tokenCommand) failed: exit 1: no such command');
  });

  it('files that cannot be used: missing, empty, a CA with no PEM certificate; the error names what the file is and the setting', () => {
    const io = fakeIo({ '/empty': '\n', '/der': 'binary junk' });
    const scram = (passwordFile: string): KafkaSecuritySettings => ({ sasl: { mechanism: 'scram-sha-256', username: 'u', passwordFile } });
    expect(() => kafkaClientSecurity(scram('/missing'), { io })).toThrow('cannot read the Kafka SASL password file (sasl.passwordFile) /missing: no such file');
    expect(() => kafkaClientSecurity(scram('/empty'), { io })).toThrow('the Kafka SASL password file (sasl.passwordFile) /empty is empty');
    expect(() => kafkaClientSecurity({ tls: { caFile: '/der' } }, { io })).toThrow('the Kafka CA file (tls.caFile) /der holds no PEM certificate');
    const named = (f: string): string => `--${f.replace('.', '-')}`;
    expect(() => kafkaClientSecurity({ tls: { caFile: '/missing' } }, { io, field: named })).toThrow('cannot read the Kafka CA file (--tls-caFile) /missing: no such file');
  });

  it('real files through the default reader: a password file and an unreadable one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kafka-security-'));
    try {
      const pw = join(dir, 'password');
      writeFileSync(pw, 'from-disk\n');
      expect(kafkaClientSecurity({ sasl: { mechanism: 'plain', username: 'u', passwordFile: pw } }).sasl).toEqual({ mechanism: 'plain', username: 'u', password: 'from-disk' });
      expect(() => kafkaClientSecurity({ sasl: { mechanism: 'plain', username: 'u', passwordFile: dir } })).toThrow(`cannot read the Kafka SASL password file (sasl.passwordFile) ${dir}: it is a directory`);
      if (process.getuid?.() !== 0) {
        chmodSync(pw, 0o000);
        expect(() => kafkaClientSecurity({ sasl: { mechanism: 'plain', username: 'u', passwordFile: pw } })).toThrow('permission denied');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a real token command through the default runner', async () => {
    const built = kafkaClientSecurity({ sasl: { mechanism: 'oauthbearer', tokenCommand: "printf 'tok-from-sh\\n'" } });
    await expect((built.sasl as { oauthBearerProvider: () => Promise<{ value: string }> }).oauthBearerProvider()).resolves.toEqual({ value: 'tok-from-sh' });
    const failing = kafkaClientSecurity({ sasl: { mechanism: 'oauthbearer', tokenCommand: 'echo denied >&2; exit 3' } });
    await expect((failing.sasl as { oauthBearerProvider: () => Promise<{ value: string }> }).oauthBearerProvider()).rejects.toThrow('failed: exit 3: denied');
  });
});

describe('checkKafkaSecuritySettings', () => {
  const bad: [string, KafkaSecuritySettings, string][] = [
    ['an unknown protocol', { securityProtocol: 'tls' }, 'securityProtocol must be one of plaintext, ssl, sasl_plaintext, sasl_ssl (got "tls")'],
    ['an unknown mechanism', { sasl: { mechanism: 'gssapi', username: 'u', password: 'p' } }, 'sasl.mechanism must be one of plain, scram-sha-256, scram-sha-512, oauthbearer (got "gssapi")'],
    ['SCRAM without a user', { sasl: { mechanism: 'scram-sha-512', password: 'p' } }, 'SASL mechanism SCRAM-SHA-512 needs a user name: give sasl.username'],
    ['PLAIN without a password', { sasl: { mechanism: 'plain', username: 'u' } }, 'SASL mechanism PLAIN needs a password: give sasl.passwordFile (a file holding only the password) or sasl.password'],
    ['a password and a password file', { sasl: { mechanism: 'plain', username: 'u', password: 'p', passwordFile: '/pw' } }, 'sasl.password and sasl.passwordFile are both set: give only one'],
    ['a token for SCRAM', { sasl: { mechanism: 'scram-sha-256', username: 'u', password: 'p', tokenFile: '/t' } }, 'sasl.tokenFile is for OAUTHBEARER, not SCRAM-SHA-256'],
    ['a user for OAUTHBEARER', { sasl: { mechanism: 'oauthbearer', username: 'u', tokenFile: '/t' } }, 'sasl.username is for PLAIN and SCRAM, not OAUTHBEARER'],
    ['OAUTHBEARER without a token', { sasl: { mechanism: 'oauthbearer' } }, 'SASL mechanism OAUTHBEARER needs a token: give sasl.tokenFile'],
    ['a token file and a token command', { sasl: { mechanism: 'oauthbearer', tokenFile: '/t', tokenCommand: 'x' } }, 'sasl.tokenCommand and sasl.tokenFile are both set: give only one'],
    ['a certificate without its key', { tls: { certFile: '/c' } }, 'tls.certFile is set but tls.keyFile is not: a client certificate needs its private key'],
    ['a key without its certificate', { tls: { keyFile: '/k' } }, 'tls.keyFile is set but tls.certFile is not'],
    ['sasl_ssl without SASL settings', { securityProtocol: 'sasl_ssl', tls: { caFile: '/ca' } }, 'securityProtocol is sasl_ssl but no SASL mechanism is set: give sasl.mechanism'],
    ['ssl with SASL settings', { securityProtocol: 'ssl', sasl: { mechanism: 'plain', username: 'u', password: 'p' } }, 'securityProtocol is ssl but SASL settings are given: use sasl_ssl, or drop the SASL settings'],
    ['sasl_plaintext with TLS settings', { securityProtocol: 'sasl_plaintext', tls: { caFile: '/ca' }, sasl: { mechanism: 'plain', username: 'u', password: 'p' } }, 'securityProtocol is sasl_plaintext but TLS settings are given: use sasl_ssl, or drop the TLS settings'],
  ];
  it.each(bad)('%s is a ConfigError saying what to give', (_name, settings, message) => {
    expect(() => checkKafkaSecuritySettings(settings)).toThrow(ConfigError);
    expect(() => checkKafkaSecuritySettings(settings)).toThrow(message);
    // kafkaClientSecurity checks first and reads no file for bad settings.
    const io = fakeIo({});
    expect(() => kafkaClientSecurity(settings, { io })).toThrow(message);
    expect(io.reads).toEqual([]);
  });
});

describe('kafkaSecurityFromEnv', () => {
  it('none of the variables: undefined', () => {
    expect(kafkaSecurityFromEnv({ PATH: '/bin', KAFKA_BROKERS: 'b:9092' })).toBeUndefined();
  });

  it("the exporter's variable names, values trimmed, protocol and mechanism in kafkajs's letter case", () => {
    expect(
      kafkaSecurityFromEnv({
        KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
        KAFKA_TLS_CA_FILE: ' /etc/kafka/ca.pem ',
        KAFKA_TLS_SERVERNAME: 'kafka.internal',
        KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
        KAFKA_SASL_USERNAME: 'monitor',
        KAFKA_SASL_PASSWORD_FILE: '/run/secrets/kafka',
      }),
    ).toEqual({
      securityProtocol: 'sasl_ssl',
      tls: { caFile: '/etc/kafka/ca.pem', servername: 'kafka.internal' },
      sasl: { mechanism: 'scram-sha-512', username: 'monitor', passwordFile: '/run/secrets/kafka' },
    });
    expect(kafkaSecurityFromEnv({ KAFKA_SASL_MECHANISM: 'OAUTHBEARER', KAFKA_SASL_OAUTHBEARER_TOKEN_COMMAND: 'get-token' })).toEqual({ sasl: { mechanism: 'oauthbearer', tokenCommand: 'get-token' } });
    expect(kafkaSecurityFromEnv({ KAFKA_TLS_CERT_FILE: '/c', KAFKA_TLS_KEY_FILE: '/k' })).toEqual({ tls: { certFile: '/c', keyFile: '/k' } });
  });

  it('errors name the variables', () => {
    expect(() => kafkaSecurityFromEnv({ KAFKA_SASL_USERNAME: 'u' })).toThrow('KAFKA_SASL_USERNAME is set but no SASL mechanism is: give KAFKA_SASL_MECHANISM (plain, scram-sha-256, scram-sha-512, oauthbearer)');
    expect(() => kafkaSecurityFromEnv({ KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_USERNAME: 'u' })).toThrow('SASL mechanism SCRAM-SHA-256 needs a password: give KAFKA_SASL_PASSWORD_FILE');
    expect(() => kafkaSecurityFromEnv({ KAFKA_SECURITY_PROTOCOL: 'sasl-ssl' })).toThrow('KAFKA_SECURITY_PROTOCOL must be one of plaintext, ssl, sasl_plaintext, sasl_ssl (got "sasl-ssl")');
    expect(() => kafkaSecurityFromEnv({ KAFKA_TLS_CA_FILE: '  ' })).toThrow('KAFKA_TLS_CA_FILE is set but empty');
    expect(() => kafkaSecurityFromEnv({ KAFKA_SECURITY_PROTOCOL: 'ssl', KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' })).toThrow(
      'KAFKA_SECURITY_PROTOCOL is ssl but SASL settings are given: use sasl_ssl',
    );
  });

  it('the variables, then the files they name: the whole path a CLI takes', () => {
    const io = fakeIo({ '/ca': CA, '/pw': 'pw' });
    const settings = kafkaSecurityFromEnv({ KAFKA_SECURITY_PROTOCOL: 'sasl_ssl', KAFKA_TLS_CA_FILE: '/ca', KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD_FILE: '/pw' });
    expect(kafkaClientSecurity(settings, { io })).toEqual({ ssl: { ca: [CA] }, sasl: { mechanism: 'scram-sha-256', username: 'u', password: 'pw' } });
  });
});

describe('helpers', () => {
  it('isSecured: anything but nothing or plaintext', () => {
    expect([undefined, {}, { securityProtocol: 'PLAINTEXT' }].map(isSecured)).toEqual([false, false, false]);
    expect([{ securityProtocol: 'ssl' }, { tls: {} }, { sasl: { mechanism: 'plain' } }].map(isSecured)).toEqual([true, true, true]);
  });

  it('tokenOf: the text, or a JSON response\u2019s access_token; nothing printed is an error', () => {
    expect(tokenOf(' eyJ.abc.def \n')).toBe('eyJ.abc.def');
    expect(tokenOf('{"access_token":"t","token_type":"Bearer"}')).toBe('t');
    expect(tokenOf('{not json')).toBe('{not json');
    expect(() => tokenOf('\n')).toThrow('the Kafka OAUTHBEARER token command printed no token');
  });

  it('securedListenerSettings: the CA file and the SCRAM user of a Kafka eda-harness started', () => {
    expect(securedListenerSettings({ ssl: { caFile: '/run/ca.pem' }, sasl: { mechanism: 'scram-sha-512', username: 'eda', password: 'pw' } })).toEqual({
      securityProtocol: 'sasl_ssl',
      tls: { caFile: '/run/ca.pem' },
      sasl: { mechanism: 'scram-sha-512', username: 'eda', password: 'pw' },
    });
  });
});
