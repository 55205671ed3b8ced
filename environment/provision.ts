import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync, createWriteStream } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { PrerequisiteError, ProvisionError } from '@eda-harness/core';
import { stderrProgress, type ProgressSink } from '@eda-harness/core';
import { waitFor } from '@eda-harness/core';

/**
 * Provisioning: find or install what the native provider runs. Idempotent: the first run installs
 * (apt packages, Kafka's jars through Maven, Toxiproxy through `go install`) with progress lines;
 * later runs find everything in place and return at once. A missing prerequisite gives one error
 * naming what to install, or which variable to set to use an existing service instead.
 */

export const DEFAULT_KAFKA_VERSION = '4.4.0';
export const DEFAULT_TOXIPROXY_VERSION = '2.12.0';
const LOG4J2_VERSION = '2.24.3';

export interface ProvisionOptions {
  readonly progress?: ProgressSink;
  /** Where jars and binaries are cached; default $EDA_HARNESS_CACHE or ~/.cache/eda-harness. */
  readonly cacheDir?: string;
}

export function cacheDir(options: ProvisionOptions = {}): string {
  return options.cacheDir ?? process.env['EDA_HARNESS_CACHE'] ?? join(homedir(), '.cache', 'eda-harness');
}

function which(cmd: string, extra: readonly string[] = []): string | undefined {
  for (const candidate of extra) if (existsSync(candidate)) return candidate;
  const paths = (process.env['PATH'] ?? '').split(':').filter(Boolean);
  for (const dir of paths) {
    const full = join(dir, cmd);
    if (existsSync(full)) return full;
  }
  return undefined;
}

/** Runs a command, streaming its output to `logFile`; rejects with the log's tail on failure. */
async function run(
  command: string,
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; logFile: string; what: string },
): Promise<void> {
  const out = createWriteStream(opts.logFile, { flags: 'a' });
  await new Promise<void>((resolve, reject) => {
    const child = spawn(command, [...args], { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(out, { end: false });
    child.stderr.pipe(out, { end: false });
    child.once('error', (err) =>
      reject(new ProvisionError(`${opts.what}: could not run ${command}: ${err.message}`, { cause: err })),
    );
    child.once('exit', (code, signal) => {
      if (code === 0) resolve();
      else
        reject(
          new ProvisionError(`${opts.what} failed (${signal ? `signal ${signal}` : `exit code ${code}`})`, {
            hint: `See ${opts.logFile} for the full output.`,
          }),
        );
    });
  });
  await new Promise<void>((r) => out.end(r));
}

/** A cross-process lock (mkdir is atomic) so two runs never install into one cache at once. */
async function withLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  mkdirSync(dir, { recursive: true });
  const lock = join(dir, '.lock');
  await waitFor(
    () => {
      try {
        mkdirSync(lock);
        return true;
      } catch {
        // A lock older than 20 minutes is left over from a killed run.
        try {
          if (Date.now() - statSync(lock).mtimeMs > 20 * 60_000) rmSync(lock, { recursive: true, force: true });
        } catch {
          /* raced with its owner: retry */
        }
        return false;
      }
    },
    { description: `the provisioning lock ${lock}`, timeoutMs: 20 * 60_000, intervalMs: 500 },
  );
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------- apt

let aptUpdated = false;

/** Installs Debian packages when we are root with apt-get; otherwise says what to do. */
async function aptInstall(packages: readonly string[], why: string, alternative: string, options: ProvisionOptions): Promise<void> {
  const progress = options.progress ?? stderrProgress;
  const aptGet = which('apt-get');
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!aptGet || !isRoot) {
    throw new PrerequisiteError(`${why} is not installed, and eda-harness cannot install it here (${!aptGet ? 'no apt-get' : 'not root'}).`, {
      hint: `Install the Debian package(s) ${packages.join(', ')} (sudo apt-get install ${packages.join(' ')}), or ${alternative}.`,
    });
  }
  const dir = join(cacheDir(options), 'logs');
  mkdirSync(dir, { recursive: true });
  const logFile = join(dir, `apt-${Date.now()}.log`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await withLock(join(cacheDir(options), 'apt'), async () => {
    if (!aptUpdated) {
      progress(`apt-get update (first run only; log: ${logFile})`);
      await run(aptGet, ['-o', 'DPkg::Lock::Timeout=600', 'update', '-qq'], { env, logFile, what: 'apt-get update' });
      aptUpdated = true;
    }
    progress(`apt-get install ${packages.join(' ')} (first run only)`);
    const started = Date.now();
    await run(aptGet, ['-o', 'DPkg::Lock::Timeout=600', 'install', '-y', '-qq', '--no-install-recommends', ...packages], {
      env,
      logFile,
      what: `apt-get install ${packages.join(' ')}`,
    });
    progress(`installed ${packages.join(' ')} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });
}

// --------------------------------------------------------------------------------------- java

export interface JavaRuntime {
  readonly java: string;
  readonly major: number;
}

export function findJava(): JavaRuntime | undefined {
  const home = process.env['JAVA_HOME'];
  const java = home && existsSync(join(home, 'bin', 'java')) ? join(home, 'bin', 'java') : which('java');
  if (!java) return undefined;
  const res = spawnSync(java, ['-version'], { encoding: 'utf8' });
  const text = `${res.stderr ?? ''}${res.stdout ?? ''}`;
  const m = /version "(\d+)(?:\.(\d+))?/.exec(text);
  if (!m) return undefined;
  const first = Number(m[1]);
  const major = first === 1 ? Number(m[2]) : first;
  return { java, major };
}

async function ensureJava(options: ProvisionOptions): Promise<JavaRuntime> {
  let rt = findJava();
  if (!rt) {
    await aptInstall(['openjdk-17-jre-headless'], 'Java (17 or newer, for Kafka)', 'set JAVA_HOME to a JDK 17+, or set KAFKA_BROKERS to use an existing Kafka', options);
    rt = findJava();
  }
  if (!rt) throw new PrerequisiteError('Java was installed but `java -version` still fails.', { hint: 'Set JAVA_HOME to a JDK 17+.' });
  if (rt.major < 17) {
    throw new PrerequisiteError(`Kafka 4 needs Java 17 or newer; found Java ${rt.major} at ${rt.java}.`, {
      hint: 'Set JAVA_HOME to a JDK 17+, or EDA_HARNESS_KAFKA_VERSION=3.9.1 (runs on Java 11), or KAFKA_BROKERS to use an existing Kafka.',
    });
  }
  return rt;
}

// -------------------------------------------------------------------------------------- kafka

export interface KafkaRuntime {
  readonly version: string;
  readonly java: string;
  /** A Java classpath (a `dir/*` wildcard) holding Kafka's jars and a logging backend. */
  readonly classpath: string;
  readonly log4j: 'log4j2' | 'reload4j';
}

function kafkaPom(version: string): { pom: string; log4j: 'log4j2' | 'reload4j' } {
  const major = Number(version.split('.')[0]);
  // Kafka 4 logs through Log4j2 (KIP-653); 3.x through reload4j. Neither backend is a dependency
  // of the kafka_2.13 artifact itself (the release tarball adds it), so we add it here.
  const logging =
    major >= 4
      ? [
          ['org.apache.logging.log4j', 'log4j-core', LOG4J2_VERSION],
          ['org.apache.logging.log4j', 'log4j-slf4j-impl', LOG4J2_VERSION],
        ]
      : [['org.slf4j', 'slf4j-reload4j', '1.7.36']];
  const deps = [['org.apache.kafka', 'kafka_2.13', version], ...logging]
    .map(([g, a, v]) => `    <dependency><groupId>${g}</groupId><artifactId>${a}</artifactId><version>${v}</version></dependency>`)
    .join('\n');
  const pom = `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>eda-harness.runtime</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>${version}</version>
  <packaging>pom</packaging>
  <dependencies>
${deps}
  </dependencies>
</project>
`;
  return { pom, log4j: major >= 4 ? 'log4j2' : 'reload4j' };
}

/**
 * Kafka's own jars from Maven Central, resolved by Maven into the cache. KAFKA_HOME (an unpacked
 * Kafka release) is used instead when set.
 */
export async function ensureKafka(version: string = kafkaVersion(), options: ProvisionOptions = {}): Promise<KafkaRuntime> {
  const progress = options.progress ?? stderrProgress;
  const rt = await ensureJava(options);
  const kafkaHome = process.env['KAFKA_HOME'];
  if (kafkaHome) {
    if (!existsSync(join(kafkaHome, 'libs'))) {
      throw new PrerequisiteError(`KAFKA_HOME=${kafkaHome} has no libs/ folder.`, { hint: 'Point KAFKA_HOME at an unpacked Kafka release, or unset it.' });
    }
    const log4j = readdirSync(join(kafkaHome, 'libs')).some((f) => f.startsWith('log4j-core')) ? 'log4j2' : 'reload4j';
    return { version: 'KAFKA_HOME', java: rt.java, classpath: join(kafkaHome, 'libs', '*'), log4j };
  }
  const dir = join(cacheDir(options), 'kafka', version);
  const libs = join(dir, 'libs');
  const marker = join(dir, '.complete');
  const { pom, log4j } = kafkaPom(version);
  if (!existsSync(marker)) {
    await withLock(dir, async () => {
      if (existsSync(marker)) return;
      let mvn = which('mvn');
      if (!mvn) {
        await aptInstall(['maven'], 'Maven (to download Kafka from Maven Central)', 'set KAFKA_HOME to an unpacked Kafka release, or KAFKA_BROKERS to use an existing Kafka', options);
        mvn = which('mvn');
      }
      if (!mvn) throw new PrerequisiteError('Maven is still not on PATH after installing it.');
      rmSync(libs, { recursive: true, force: true });
      writeFileSync(join(dir, 'pom.xml'), pom);
      const logFile = join(dir, 'maven.log');
      progress(`downloading Apache Kafka ${version} jars from Maven Central (first run only; log: ${logFile})`);
      const started = Date.now();
      await run(mvn, ['-B', '-q', '-f', join(dir, 'pom.xml'), 'dependency:copy-dependencies', `-DoutputDirectory=${libs}`, '-DincludeScope=runtime'], {
        logFile,
        what: `Maven download of Kafka ${version}`,
      });
      const count = readdirSync(libs).filter((f) => f.endsWith('.jar')).length;
      if (count === 0) throw new ProvisionError(`Maven finished but ${libs} holds no jars`, { hint: `See ${logFile}.` });
      writeFileSync(marker, `${new Date().toISOString()} ${count} jars\n`);
      progress(`Kafka ${version}: ${count} jars in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    });
  }
  return { version, java: rt.java, classpath: join(libs, '*'), log4j };
}

export function kafkaVersion(): string {
  return process.env['EDA_HARNESS_KAFKA_VERSION'] ?? DEFAULT_KAFKA_VERSION;
}

// ----------------------------------------------------------------------------------- rabbitmq

export interface RabbitMqRuntime {
  /** RabbitMQ's server start script. */
  readonly server: string;
  readonly epmd: string;
}

function findRabbitMq(): RabbitMqRuntime | undefined {
  const server = which('rabbitmq-server', ['/usr/lib/rabbitmq/bin/rabbitmq-server']);
  const epmd = which('epmd', ['/usr/bin/epmd']);
  if (!server || !epmd) return undefined;
  // /usr/sbin/rabbitmq-server wraps the real script with a user switch; use the real one.
  const real = '/usr/lib/rabbitmq/bin/rabbitmq-server';
  return { server: existsSync(real) ? real : server, epmd };
}

export async function ensureRabbitMq(options: ProvisionOptions = {}): Promise<RabbitMqRuntime> {
  let rt = findRabbitMq();
  if (!rt) {
    await aptInstall(['rabbitmq-server'], 'RabbitMQ', 'set AMQP_URL (and RABBITMQ_MANAGEMENT_URL) to use an existing RabbitMQ', options);
    rt = findRabbitMq();
  }
  if (!rt) throw new PrerequisiteError('rabbitmq-server was installed but its start script was not found.');
  return rt;
}

// ---------------------------------------------------------------------------------- toxiproxy

export function toxiproxyVersion(): string {
  return process.env['EDA_HARNESS_TOXIPROXY_VERSION'] ?? DEFAULT_TOXIPROXY_VERSION;
}

/** Toxiproxy's server, built from source through the Go module proxy; EDA_HARNESS_TOXIPROXY_BIN overrides. */
export async function ensureToxiproxy(options: ProvisionOptions = {}): Promise<string> {
  const progress = options.progress ?? stderrProgress;
  const override = process.env['EDA_HARNESS_TOXIPROXY_BIN'];
  if (override) {
    if (!existsSync(override)) throw new PrerequisiteError(`EDA_HARNESS_TOXIPROXY_BIN=${override} does not exist.`);
    return override;
  }
  const version = toxiproxyVersion();
  const dir = join(cacheDir(options), 'toxiproxy', version);
  const bin = join(dir, 'bin', 'server');
  if (existsSync(bin)) return bin;
  await withLock(dir, async () => {
    if (existsSync(bin)) return;
    let go = which('go', ['/usr/local/go/bin/go']);
    if (!go) {
      await aptInstall(['golang-go'], 'Go (to build Toxiproxy)', 'set EDA_HARNESS_TOXIPROXY_BIN to a toxiproxy-server binary', options);
      go = which('go', ['/usr/local/go/bin/go']);
    }
    if (!go) throw new PrerequisiteError('Go is still not on PATH after installing it.');
    const logFile = join(dir, 'go-install.log');
    progress(`building Toxiproxy ${version} with go install (first run only; log: ${logFile})`);
    const started = Date.now();
    await run(go, ['install', `github.com/Shopify/toxiproxy/v2/cmd/server@v${version}`], {
      env: { ...process.env, GOBIN: join(dir, 'bin'), CGO_ENABLED: '0', GOFLAGS: '-mod=mod' },
      logFile,
      what: `go install of Toxiproxy ${version}`,
    });
    if (!existsSync(bin)) throw new ProvisionError(`go install finished but ${bin} is missing`, { hint: `See ${logFile}.` });
    progress(`Toxiproxy ${version} built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });
  return bin;
}

// --------------------------------------------------------------------------------- prometheus

export interface PrometheusRuntime {
  readonly prometheus: string;
  readonly promtool: string;
}

function findPrometheus(): PrometheusRuntime | undefined {
  const prometheus = which('prometheus', ['/usr/bin/prometheus']);
  const promtool = which('promtool', ['/usr/bin/promtool']);
  return prometheus && promtool ? { prometheus, promtool } : undefined;
}

export async function ensurePrometheus(options: ProvisionOptions = {}): Promise<PrometheusRuntime> {
  let rt = findPrometheus();
  if (!rt) {
    await aptInstall(['prometheus'], 'Prometheus and promtool', 'set PROMETHEUS_URL to use an existing Prometheus', options);
    rt = findPrometheus();
  }
  if (!rt) throw new PrerequisiteError('prometheus was installed but its binaries were not found.');
  return rt;
}

// ----------------------------------------------------------------------------- docker-compose

/**
 * Debian's docker-compose (1.29): `docker-compose config -q` validates docker-compose.yml with no
 * Docker engine, which is all the tests use it for. Returns the binary's path.
 */
export async function ensureDockerCompose(options: ProvisionOptions = {}): Promise<string> {
  let bin = which('docker-compose');
  if (!bin) {
    await aptInstall(['docker-compose'], 'docker-compose (to validate docker-compose.yml)', 'install docker-compose yourself', options);
    bin = which('docker-compose');
  }
  if (!bin) throw new PrerequisiteError('docker-compose was installed but is not on PATH.');
  return bin;
}

/** Everything the native provider may need, installed in one go (used by `eda-harness env provision` and CI). */
export async function provisionAll(options: ProvisionOptions & { kafkaVersion?: string } = {}): Promise<void> {
  // apt first, in one transaction, so a fresh machine pays for one `apt-get update`.
  const aptNeeded: string[] = [];
  if (!findRabbitMq()) aptNeeded.push('rabbitmq-server');
  if (!findPrometheus()) aptNeeded.push('prometheus');
  if (aptNeeded.length > 0) {
    await aptInstall(aptNeeded, aptNeeded.join(' and '), 'set AMQP_URL / PROMETHEUS_URL to use existing services', options);
  }
  await Promise.all([ensureKafka(options.kafkaVersion ?? kafkaVersion(), options), ensureToxiproxy(options)]);
  await ensureRabbitMq(options);
  await ensurePrometheus(options);
}
