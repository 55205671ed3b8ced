import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ConfigError, errorMessage } from './errors';

/**
 * Kafka TLS and SASL settings, turned into the `ssl` and `sasl` options of a kafkajs client.
 * Shared by everything that builds a client against a cluster the user runs (the exporter, the
 * demo's reference system, the chaos workloads). This module does not import kafkajs: what it
 * returns is plain data shaped like kafkajs's options, so `new Kafka({ brokers, ...security })`
 * type-checks in the packages that do depend on kafkajs.
 *
 * The settings have the exporter's names: environment variables KAFKA_SECURITY_PROTOCOL,
 * KAFKA_TLS_*, KAFKA_SASL_* (secrets from *_FILE), or the same fields in code.
 */

/** Kafka's own `security.protocol` values, in any letter case. */
export const KAFKA_SECURITY_PROTOCOLS = ['plaintext', 'ssl', 'sasl_plaintext', 'sasl_ssl'] as const;
/** The SASL mechanisms kafkajs speaks (AWS IAM aside), in any letter case. */
export const KAFKA_SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512', 'oauthbearer'] as const;

export interface KafkaTlsSettings {
  /** PEM file of the CA(s) that signed the brokers' certificates (default: Node's built-in CAs). */
  readonly caFile?: string;
  /** PEM client certificate and its key, for brokers that require client authentication. */
  readonly certFile?: string;
  readonly keyFile?: string;
  /** Host name the broker certificates are checked against, when it differs from the address. */
  readonly servername?: string;
}

export interface KafkaSaslSettings {
  /** plain, scram-sha-256, scram-sha-512 or oauthbearer (any letter case). */
  readonly mechanism: string;
  /** PLAIN and SCRAM: the user, and the password itself or a file holding only it. */
  readonly username?: string;
  readonly password?: string;
  readonly passwordFile?: string;
  /** OAUTHBEARER: a shell command printing a token (or a JSON `access_token`)… */
  readonly tokenCommand?: string;
  /** …or a file holding the token; either is used again at each authentication. */
  readonly tokenFile?: string;
}

/** The same shape as the exporter's Kafka target settings (securityProtocol, tls, sasl). */
export interface KafkaSecuritySettings {
  /** Default: sasl_ssl with sasl and tls, sasl_plaintext with sasl, ssl with tls, else plaintext. */
  readonly securityProtocol?: string;
  readonly tls?: KafkaTlsSettings;
  readonly sasl?: KafkaSaslSettings;
}

/** kafkajs's `ssl` option, as this module fills it. */
export interface KafkaClientTls {
  ca?: string[];
  cert?: string;
  key?: string;
  servername?: string;
}

/** kafkajs's `sasl` option, as this module fills it. */
export type KafkaClientSasl =
  | { mechanism: 'plain'; username: string; password: string }
  | { mechanism: 'scram-sha-256'; username: string; password: string }
  | { mechanism: 'scram-sha-512'; username: string; password: string }
  | { mechanism: 'oauthbearer'; oauthBearerProvider: () => Promise<{ value: string }> };

/** To spread into a kafkajs client's configuration: `new Kafka({ brokers, ...security })`. */
export interface KafkaClientSecurity {
  ssl?: KafkaClientTls;
  sasl?: KafkaClientSasl;
}

/** How files are read and token commands run; tests pass their own. */
export interface KafkaSecurityIo {
  /** The file's text; throws when it cannot be read. */
  readText(path: string): string;
  /** Runs a shell command, resolves with what it printed on stdout. */
  runCommand(command: string): Promise<string>;
}

/** Names a setting in errors: its environment variable, its config-file key, its flag… */
export type KafkaSettingNamer = (field: KafkaSecurityField) => string;

export type KafkaSecurityField =
  | 'securityProtocol'
  | 'tls.caFile'
  | 'tls.certFile'
  | 'tls.keyFile'
  | 'tls.servername'
  | 'sasl.mechanism'
  | 'sasl.username'
  | 'sasl.password'
  | 'sasl.passwordFile'
  | 'sasl.tokenCommand'
  | 'sasl.tokenFile';

/** The environment variable of each setting: the exporter's names. */
export const KAFKA_SECURITY_VARIABLES: Readonly<Record<KafkaSecurityField, string>> = {
  securityProtocol: 'KAFKA_SECURITY_PROTOCOL',
  'tls.caFile': 'KAFKA_TLS_CA_FILE',
  'tls.certFile': 'KAFKA_TLS_CERT_FILE',
  'tls.keyFile': 'KAFKA_TLS_KEY_FILE',
  'tls.servername': 'KAFKA_TLS_SERVERNAME',
  'sasl.mechanism': 'KAFKA_SASL_MECHANISM',
  'sasl.username': 'KAFKA_SASL_USERNAME',
  'sasl.password': 'KAFKA_SASL_PASSWORD',
  'sasl.passwordFile': 'KAFKA_SASL_PASSWORD_FILE',
  'sasl.tokenCommand': 'KAFKA_SASL_OAUTHBEARER_TOKEN_COMMAND',
  'sasl.tokenFile': 'KAFKA_SASL_OAUTHBEARER_TOKEN_FILE',
};

const asField: KafkaSettingNamer = (f) => f;
const asVariable: KafkaSettingNamer = (f) => KAFKA_SECURITY_VARIABLES[f];

/** What each file holds, for error messages. */
const FILE_WHAT: Readonly<Record<'tls.caFile' | 'tls.certFile' | 'tls.keyFile' | 'sasl.passwordFile' | 'sasl.tokenFile', string>> = {
  'tls.caFile': 'the Kafka CA file',
  'tls.certFile': 'the Kafka client certificate file',
  'tls.keyFile': 'the Kafka client key file',
  'sasl.passwordFile': 'the Kafka SASL password file',
  'sasl.tokenFile': 'the Kafka OAUTHBEARER token file',
};

/**
 * The settings the environment variables give (KAFKA_SECURITY_PROTOCOL, KAFKA_TLS_*, KAFKA_SASL_*),
 * checked (errors name the variables); undefined when none is set. Pure: reads no file.
 */
export function kafkaSecurityFromEnv(env: Readonly<Record<string, string | undefined>>): KafkaSecuritySettings | undefined {
  const get = (field: KafkaSecurityField): string | undefined => {
    const name = KAFKA_SECURITY_VARIABLES[field];
    const value = env[name];
    if (value === undefined) return undefined;
    if (value.trim() === '') throw new ConfigError(`${name} is set but empty`, { hint: `Give it a value, or unset it (unset ${name}).` });
    return value.trim();
  };
  const pick = <K extends string>(fields: Readonly<Record<K, KafkaSecurityField>>): Partial<Record<K, string>> | undefined => {
    const out: Partial<Record<K, string>> = {};
    for (const [key, field] of Object.entries(fields) as [K, KafkaSecurityField][]) {
      const value = get(field);
      if (value !== undefined) out[key] = value;
    }
    return Object.keys(out).length > 0 ? out : undefined;
  };
  const securityProtocol = get('securityProtocol');
  const tls = pick({ caFile: 'tls.caFile', certFile: 'tls.certFile', keyFile: 'tls.keyFile', servername: 'tls.servername' });
  const sasl = pick({
    mechanism: 'sasl.mechanism',
    username: 'sasl.username',
    password: 'sasl.password',
    passwordFile: 'sasl.passwordFile',
    tokenCommand: 'sasl.tokenCommand',
    tokenFile: 'sasl.tokenFile',
  });
  if (securityProtocol === undefined && !tls && !sasl) return undefined;
  // A SASL setting without a mechanism is refused by the check below, naming the variable.
  const settings: KafkaSecuritySettings = {
    ...(securityProtocol !== undefined ? { securityProtocol } : {}),
    ...(tls ? { tls } : {}),
    ...(sasl ? { sasl: sasl as KafkaSaslSettings } : {}),
  };
  checkKafkaSecuritySettings(settings, asVariable);
  // Checked, so the protocol and mechanism are known ones: given back in kafkajs's letter case.
  return {
    ...settings,
    ...(settings.securityProtocol !== undefined ? { securityProtocol: settings.securityProtocol.toLowerCase() } : {}),
    ...(settings.sasl ? { sasl: { ...settings.sasl, mechanism: settings.sasl.mechanism.toLowerCase() } } : {}),
  };
}

/** Whether the settings ask for anything at all (an empty object or plaintext does not). */
export function isSecured(settings: KafkaSecuritySettings | undefined): boolean {
  if (!settings) return false;
  return settings.tls !== undefined || settings.sasl !== undefined || (settings.securityProtocol !== undefined && settings.securityProtocol.toLowerCase() !== 'plaintext');
}

/**
 * The settings fit together: a known protocol and mechanism, the credentials the mechanism takes
 * and no others, a certificate with its key, the protocol agreeing with what is given. Pure:
 * reads no file (kafkaClientSecurity does, and says which one it could not read).
 */
export function checkKafkaSecuritySettings(settings: KafkaSecuritySettings, field: KafkaSettingNamer = asField): void {
  const { tls, sasl } = settings;
  const protocol = settings.securityProtocol?.toLowerCase();
  if (protocol !== undefined && !(KAFKA_SECURITY_PROTOCOLS as readonly string[]).includes(protocol)) {
    throw new ConfigError(`${field('securityProtocol')} must be one of ${KAFKA_SECURITY_PROTOCOLS.join(', ')} (got "${settings.securityProtocol ?? ''}")`, {
      hint: "Kafka's security.protocol of the listener you connect to; letter case does not matter.",
    });
  }
  if (sasl) checkSasl(sasl, field);
  if (tls && (tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    const [given, missing] = tls.certFile === undefined ? (['tls.keyFile', 'tls.certFile'] as const) : (['tls.certFile', 'tls.keyFile'] as const);
    throw new ConfigError(`${field(given)} is set but ${field(missing)} is not: a client certificate needs its private key (and the other way round)`);
  }
  if (protocol === undefined) return;
  const wantsSasl = protocol.startsWith('sasl_');
  const wantsTls = protocol.endsWith('ssl');
  if (wantsSasl && !sasl) throw new ConfigError(`${field('securityProtocol')} is ${protocol} but no SASL mechanism is set: give ${field('sasl.mechanism')}`);
  if (!wantsSasl && sasl) throw new ConfigError(`${field('securityProtocol')} is ${protocol} but SASL settings are given: use sasl_${wantsTls ? 'ssl' : 'plaintext'}, or drop the SASL settings`);
  if (!wantsTls && tls) throw new ConfigError(`${field('securityProtocol')} is ${protocol} but TLS settings are given: use ${wantsSasl ? 'sasl_ssl' : 'ssl'}, or drop the TLS settings`);
}

function checkSasl(sasl: Partial<KafkaSaslSettings>, field: KafkaSettingNamer): void {
  const keys = ['username', 'password', 'passwordFile', 'tokenCommand', 'tokenFile'] as const;
  const given = keys.filter((k) => sasl[k] !== undefined);
  if (sasl.mechanism === undefined) {
    throw new ConfigError(`${field(`sasl.${given[0] ?? 'mechanism'}`)} is set but no SASL mechanism is: give ${field('sasl.mechanism')} (${KAFKA_SASL_MECHANISMS.join(', ')})`);
  }
  const mechanism = sasl.mechanism.toLowerCase();
  if (!(KAFKA_SASL_MECHANISMS as readonly string[]).includes(mechanism)) {
    throw new ConfigError(`${field('sasl.mechanism')} must be one of ${KAFKA_SASL_MECHANISMS.join(', ')} (got "${sasl.mechanism}")`);
  }
  const upper = mechanism.toUpperCase();
  const both = (a: (typeof keys)[number], b: (typeof keys)[number]): ConfigError => new ConfigError(`${field(`sasl.${a}`)} and ${field(`sasl.${b}`)} are both set: give only one`);
  if (mechanism === 'oauthbearer') {
    const wrong = given.find((k) => k === 'username' || k === 'password' || k === 'passwordFile');
    if (wrong) throw new ConfigError(`${field(`sasl.${wrong}`)} is for PLAIN and SCRAM, not OAUTHBEARER: OAUTHBEARER takes a token (${field('sasl.tokenFile')} or ${field('sasl.tokenCommand')})`);
    if (sasl.tokenCommand === undefined && sasl.tokenFile === undefined) {
      throw new ConfigError(`SASL mechanism OAUTHBEARER needs a token: give ${field('sasl.tokenFile')} (read at each authentication) or ${field('sasl.tokenCommand')} (run at each authentication, prints the token)`);
    }
    if (sasl.tokenCommand !== undefined && sasl.tokenFile !== undefined) throw both('tokenCommand', 'tokenFile');
    return;
  }
  const wrong = given.find((k) => k === 'tokenCommand' || k === 'tokenFile');
  if (wrong) throw new ConfigError(`${field(`sasl.${wrong}`)} is for OAUTHBEARER, not ${upper}`);
  if (sasl.username === undefined) throw new ConfigError(`SASL mechanism ${upper} needs a user name: give ${field('sasl.username')}`);
  if (sasl.password === undefined && sasl.passwordFile === undefined) {
    throw new ConfigError(`SASL mechanism ${upper} needs a password: give ${field('sasl.passwordFile')} (a file holding only the password) or ${field('sasl.password')}`);
  }
  if (sasl.password !== undefined && sasl.passwordFile !== undefined) throw both('password', 'passwordFile');
}

/**
 * kafkajs's `ssl` and `sasl` options from the settings, checked first. Certificate, key and
 * password files are read now (call it again for a new client to pick up rotated files); an
 * OAUTHBEARER token file is read, or its command run, at each authentication. A file that cannot
 * be read, is empty, or (the CA) holds no PEM certificate is a ConfigError naming the setting.
 */
export function kafkaClientSecurity(settings: KafkaSecuritySettings | undefined, options: { io?: KafkaSecurityIo; field?: KafkaSettingNamer } = {}): KafkaClientSecurity {
  if (!settings) return {};
  const io = options.io ?? NODE_IO;
  const field = options.field ?? asField;
  checkKafkaSecuritySettings(settings, field);
  const read = (f: keyof typeof FILE_WHAT, path: string): string => readSecret(io, path, `${FILE_WHAT[f]} (${field(f)})`);
  const { tls, sasl } = settings;
  const protocol = settings.securityProtocol?.toLowerCase();
  const out: KafkaClientSecurity = {};
  if (protocol === undefined ? tls !== undefined : protocol.endsWith('ssl')) {
    const ssl: KafkaClientTls = {};
    if (tls?.caFile !== undefined) {
      const ca = read('tls.caFile', tls.caFile);
      if (!ca.includes('-----BEGIN CERTIFICATE-----')) {
        throw new ConfigError(`${FILE_WHAT['tls.caFile']} (${field('tls.caFile')}) ${tls.caFile} holds no PEM certificate`, {
          hint: 'Give the CA certificate in PEM form; from a JKS or PKCS12 truststore: keytool -exportcert -rfc -keystore <truststore> -alias <ca> -file ca.pem',
        });
      }
      ssl.ca = [ca];
    }
    if (tls?.certFile !== undefined) ssl.cert = read('tls.certFile', tls.certFile);
    if (tls?.keyFile !== undefined) ssl.key = read('tls.keyFile', tls.keyFile);
    if (tls?.servername !== undefined) ssl.servername = tls.servername;
    out.ssl = ssl;
  }
  if (sasl) {
    const mechanism = sasl.mechanism.toLowerCase() as (typeof KAFKA_SASL_MECHANISMS)[number];
    if (mechanism === 'oauthbearer') {
      const { tokenFile, tokenCommand } = sasl;
      out.sasl = {
        mechanism,
        // kafkajs calls this at each authentication (each new broker connection).
        oauthBearerProvider: async () => ({
          value: tokenFile !== undefined ? readSecret(io, tokenFile, `${FILE_WHAT['sasl.tokenFile']} (${field('sasl.tokenFile')})`).trim() : tokenOf(await runToken(io, tokenCommand as string, field)),
        }),
      };
    } else {
      const password = sasl.passwordFile !== undefined ? read('sasl.passwordFile', sasl.passwordFile) : (sasl.password as string);
      out.sasl = { mechanism, username: sasl.username as string, password } as KafkaClientSasl;
    }
  }
  return out;
}

/** A file's text less the one trailing newline editors and `echo` add; empty is an error. */
function readSecret(io: KafkaSecurityIo, path: string, name: string): string {
  let text: string;
  try {
    text = io.readText(path);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : errorMessage(err);
    throw new ConfigError(`cannot read ${name} ${path}: ${why}`, { cause: err, hint: 'The file must exist and be readable by the user this runs as.' });
  }
  const trimmed = text.replace(/\r?\n$/, '');
  if (trimmed.trim() === '') throw new ConfigError(`${name} ${path} is empty`);
  return trimmed;
}

async function runToken(io: KafkaSecurityIo, command: string, field: KafkaSettingNamer): Promise<string> {
  try {
    return await io.runCommand(command);
  } catch (err) {
    throw new ConfigError(`the Kafka OAUTHBEARER token command (${field('sasl.tokenCommand')}) failed: ${errorMessage(err)}`, { cause: err });
  }
}

/** The token a command printed: the text itself, or the `access_token` of a JSON token response. */
export function tokenOf(printed: string): string {
  const text = printed.trim();
  let token = text;
  if (text.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const value = (json as { access_token?: unknown } | undefined)?.access_token;
    if (typeof value === 'string') token = value;
  }
  if (token === '') throw new ConfigError('the Kafka OAUTHBEARER token command printed no token');
  return token;
}

const COMMAND_TIMEOUT_MS = 30_000;

const NODE_IO: KafkaSecurityIo = {
  readText: (path) => readFileSync(path, 'utf8'),
  runCommand: (command) =>
    new Promise((resolve, reject) => {
      execFile('/bin/sh', ['-c', command], { timeout: COMMAND_TIMEOUT_MS, maxBuffer: 1024 * 1024 }, (err, stdout, stderr) => {
        if (err) {
          const first = String(stderr).trim().split('\n')[0] ?? '';
          reject(new Error(`${err.killed ? `timed out after ${COMMAND_TIMEOUT_MS / 1000} s` : `exit ${String(err.code)}`}${first ? `: ${first}` : ''}`));
        } else {
          resolve(String(stdout));
        }
      });
    }),
};

/**
 * The settings of a Kafka listener started by eda-harness's environment with
 * `withKafka({ security: 'sasl_ssl' })`: its CA file and SCRAM user (`env.getKafkaSecurity()`).
 */
export function securedListenerSettings(security: {
  readonly ssl: { readonly caFile: string };
  readonly sasl: { readonly mechanism: string; readonly username: string; readonly password: string };
}): KafkaSecuritySettings {
  return {
    securityProtocol: 'sasl_ssl',
    tls: { caFile: security.ssl.caFile },
    sasl: { mechanism: security.sasl.mechanism, username: security.sasl.username, password: security.sasl.password },
  };
}
