import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, closeSync, cpSync, existsSync, openSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, PrerequisiteError, ProvisionError, ensureDir, stderrProgress } from '@eda-harness/core';
import { aptInstall, cacheDir, findOrInstall, run, secondsSince, which, withLock, type ProvisionOptions } from './install';

/**
 * Provisioning: find or install what the native provider runs. Idempotent: the first run installs
 * (apt packages, Kafka's jars through Maven, Toxiproxy through `go install`) with progress lines;
 * later runs find everything in place and return at once. A missing prerequisite gives one error
 * naming what to install, or which variable to set to use an existing service instead.
 */

const DEFAULT_KAFKA_VERSION = '4.4.0';
const DEFAULT_TOXIPROXY_VERSION = '2.12.0';
/** Prometheus 3's promtool: the Go module proxy serves Prometheus 3.x as v0.3xx.y (3.16 is v0.316.0). */
const DEFAULT_PROMTOOL3_VERSION = '0.316.0';
const LOG4J2_VERSION = '2.24.3';

// --------------------------------------------------------------------------------------- java

interface JavaRuntime {
  readonly java: string;
  readonly major: number;
}

function findJava(): JavaRuntime | undefined {
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
  const rt = await findOrInstall(
    findJava,
    {
      packages: ['openjdk-17-jre-headless'],
      what: 'Java (17 or newer, for Kafka)',
      alternative: 'set JAVA_HOME to a JDK 17+, or set KAFKA_BROKERS to use an existing Kafka',
      stillMissing: 'Java was installed but `java -version` still fails.',
      stillMissingHint: 'Set JAVA_HOME to a JDK 17+.',
    },
    options,
  );
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
 * A Kafka release number as Maven Central names it (4.4.0, 3.9.1, 4.0.0-rc1). It becomes a folder
 * of the cache and a Maven coordinate, so nothing else (no path, no space) gets through.
 */
export function checkKafkaVersion(version: string, source: string): string {
  if (!/^\d{1,3}\.\d{1,3}\.\d{1,3}(?:-[A-Za-z0-9][A-Za-z0-9.]{0,30})?$/.test(version)) {
    throw new ConfigError(`${source} must be a Kafka release such as ${DEFAULT_KAFKA_VERSION} or 3.9.1 (got "${version}")`);
  }
  return version;
}

/** EDA_HARNESS_KAFKA_VERSION (checked), else the default release. */
export function kafkaVersion(): string {
  const fromEnv = process.env['EDA_HARNESS_KAFKA_VERSION'];
  return fromEnv ? checkKafkaVersion(fromEnv, 'EDA_HARNESS_KAFKA_VERSION') : DEFAULT_KAFKA_VERSION;
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
      const mvn = await findOrInstall(
        () => which('mvn'),
        {
          packages: ['maven'],
          what: 'Maven (to download Kafka from Maven Central)',
          alternative: 'set KAFKA_HOME to an unpacked Kafka release, or KAFKA_BROKERS to use an existing Kafka',
          stillMissing: 'Maven is still not on PATH after installing it.',
        },
        options,
      );
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
      progress(`Kafka ${version}: ${count} jars in ${secondsSince(started)}`);
    });
  }
  return { version, java: rt.java, classpath: join(libs, '*'), log4j };
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
  return findOrInstall(
    findRabbitMq,
    {
      packages: ['rabbitmq-server'],
      what: 'RabbitMQ',
      alternative: 'set AMQP_URL (and RABBITMQ_MANAGEMENT_URL) to use an existing RabbitMQ',
      stillMissing: 'rabbitmq-server was installed but its start script was not found.',
    },
    options,
  );
}

// ---------------------------------------------------------------------------------- toxiproxy

function toxiproxyVersion(): string {
  return process.env['EDA_HARNESS_TOXIPROXY_VERSION'] ?? DEFAULT_TOXIPROXY_VERSION;
}

/** Toxiproxy's server, built from source through the Go module proxy; EDA_HARNESS_TOXIPROXY_BIN overrides. */
export async function ensureToxiproxy(options: ProvisionOptions = {}): Promise<string> {
  return ensureGoBinary(
    {
      name: 'Toxiproxy',
      cacheFolder: 'toxiproxy',
      version: toxiproxyVersion(),
      binary: 'server',
      build: { kind: 'install', module: (v) => `github.com/Shopify/toxiproxy/v2/cmd/server@v${v}` },
      overrideVariable: 'EDA_HARNESS_TOXIPROXY_BIN',
      overrideWhat: 'a toxiproxy-server binary',
    },
    options,
  );
}

/**
 * How a Go command is built:
 * - `install`: `go install <module>@v<version>` into the cache's bin/ (GOBIN);
 * - `module-source`: for a module `go install` refuses (a `replace` directive in its go.mod, as
 *   Jaeger's has): `go mod download -json <module>@v<version>` fetches its source into Go's module
 *   cache (read-only), a writable copy of it is made under the cache (`src/`), `go build <package>`
 *   runs inside the copy, and the copy is removed.
 */
export type GoBuild =
  | { readonly kind: 'install'; readonly module: (version: string) => string }
  | { readonly kind: 'module-source'; readonly module: string; readonly package: string };

/** How to build one Go command, cached per version under the eda-harness cache. */
export interface GoBinarySpec {
  /** What it is, in progress lines and errors ("Toxiproxy"). */
  readonly name: string;
  readonly cacheFolder: string;
  readonly version: string;
  /** The file written into the cache's bin/ folder. */
  readonly binary: string;
  readonly build: GoBuild;
  readonly tags?: readonly string[];
  /** Linker flags (`-ldflags`), e.g. the version a release build stamps in. */
  readonly ldflags?: readonly string[];
  /** A variable naming a ready binary instead (checked to exist). */
  readonly overrideVariable: string;
  readonly overrideWhat: string;
  /** Said in the progress line of a cold build ("several minutes"). */
  readonly duration?: string;
}

/** The environment of every Go build: static binaries, and go.mod files completed as needed. */
export const GO_BUILD_ENV = { CGO_ENABLED: '0', GOFLAGS: '-mod=mod' } as const;

/** The `go` command lines of a build (pure): `download` only for a module-source build. */
export function goCommandLines(spec: GoBinarySpec, binDir: string): { download?: readonly string[]; build: readonly string[] } {
  const flags = [
    ...(spec.tags && spec.tags.length > 0 ? ['-tags', spec.tags.join(',')] : []),
    ...(spec.ldflags && spec.ldflags.length > 0 ? ['-ldflags', spec.ldflags.join(' ')] : []),
  ];
  if (spec.build.kind === 'install') return { build: ['install', ...flags, spec.build.module(spec.version)] };
  return {
    download: ['mod', 'download', '-json', `${spec.build.module}@v${spec.version}`],
    build: ['build', '-trimpath', ...flags, '-o', join(binDir, spec.binary), spec.build.package],
  };
}

/**
 * The module folder `go mod download -json` names in `Dir` (pure). Its `Error` (a version that does
 * not exist, the proxy unreachable) or output that is not its JSON is a ProvisionError naming the log.
 */
export function parseGoModDownload(output: string, what: string, logFile: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(output);
  } catch {
    throw new ProvisionError(`go mod download of ${what} printed no module description: ${output.trim().slice(0, 300) || '(nothing)'}`, { hint: `See ${logFile}.` });
  }
  const info = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as { Dir?: unknown; Error?: unknown };
  if (typeof info.Error === 'string' && info.Error !== '') {
    throw new ProvisionError(`go mod download of ${what} failed: ${info.Error}`, { hint: `Check the version and that the Go module proxy is reachable (GOPROXY); see ${logFile}.` });
  }
  if (typeof info.Dir !== 'string' || info.Dir === '') throw new ProvisionError(`go mod download of ${what} named no module folder`, { hint: `See ${logFile}.` });
  return info.Dir;
}

/** Runs `go` with its stdout captured (stderr to `logFile`): for `go mod download -json`, whose answer is its stdout. */
async function goOutput(go: string, args: readonly string[], opts: { env: NodeJS.ProcessEnv; cwd: string; logFile: string }): Promise<string> {
  appendFileSync(opts.logFile, `$ go ${args.join(' ')}\n`);
  const log = openSync(opts.logFile, 'a');
  try {
    return await new Promise<string>((resolve, reject) => {
      const child = spawn(go, [...args], { env: opts.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', log] });
      const chunks: Buffer[] = [];
      child.stdout?.on('data', (c: Buffer) => chunks.push(c));
      child.once('error', (err) => reject(new ProvisionError(`could not run ${go}: ${err.message}`, { cause: err })));
      // A failed download still prints its JSON (with Error) and exits 1: the caller reads it.
      child.once('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    });
  } finally {
    closeSync(log);
  }
}

/** Makes every file and folder under `dir` writable by its owner (Go's module cache is read-only). */
function makeWritable(dir: string): void {
  chmodSync(dir, statSync(dir).mode | 0o700);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) makeWritable(path);
    else if (entry.isFile()) chmodSync(path, statSync(path).mode | 0o200);
  }
}

async function ensureGoBinary(spec: GoBinarySpec, options: ProvisionOptions): Promise<string> {
  const progress = options.progress ?? stderrProgress;
  const override = process.env[spec.overrideVariable];
  if (override) {
    if (!existsSync(override)) throw new PrerequisiteError(`${spec.overrideVariable}=${override} does not exist.`);
    return override;
  }
  const dir = join(cacheDir(options), spec.cacheFolder, spec.version);
  const binDir = join(dir, 'bin');
  const bin = join(binDir, spec.binary);
  if (existsSync(bin)) return bin;
  await withLock(dir, async () => {
    if (existsSync(bin)) return;
    const go = await findOrInstall(
      () => which('go', ['/usr/local/go/bin/go']),
      {
        packages: ['golang-go'],
        what: `Go (to build ${spec.name})`,
        alternative: `set ${spec.overrideVariable} to ${spec.overrideWhat}`,
        stillMissing: 'Go is still not on PATH after installing it.',
      },
      options,
    );
    const lines = goCommandLines(spec, binDir);
    const how = spec.build.kind === 'install' ? 'go install' : 'go build';
    const logFile = join(dir, spec.build.kind === 'install' ? 'go-install.log' : 'go-build.log');
    const what = `${how} of ${spec.name} ${spec.version}`;
    progress(`building ${spec.name} ${spec.version} with ${how} (first run only${spec.duration ? `, ${spec.duration}` : ''}; log: ${logFile})`);
    const started = Date.now();
    // A line every 30 s: a cold build takes minutes, and silence looks like a hang.
    const heartbeat = { everyMs: 30_000, progress };
    if (spec.build.kind === 'install') {
      await run(go, lines.build, { env: { ...process.env, GOBIN: binDir, ...GO_BUILD_ENV }, logFile, what, heartbeat });
    } else {
      const env = { ...process.env, ...GO_BUILD_ENV };
      // Run in the cache folder: outside any go.mod of the caller's, which a download could touch.
      const moduleDir = parseGoModDownload(await goOutput(go, lines.download ?? [], { env, cwd: dir, logFile }), `${spec.build.module}@v${spec.version}`, logFile);
      // Go's module cache is read-only and a build may complete go.mod / go.sum: build in a copy.
      const src = join(dir, 'src');
      rmSync(src, { recursive: true, force: true });
      cpSync(moduleDir, src, { recursive: true });
      makeWritable(src);
      ensureDir(binDir, { what: `${spec.name}'s cache folder` });
      try {
        await run(go, lines.build, { env, cwd: src, logFile, what, heartbeat });
      } finally {
        rmSync(src, { recursive: true, force: true });
      }
    }
    if (!existsSync(bin)) throw new ProvisionError(`${how} finished but ${bin} is missing`, { hint: `See ${logFile}.` });
    progress(`${spec.name} ${spec.version} built in ${secondsSince(started)}`);
  });
  return bin;
}

// ------------------------------------------------------------------------------------- jaeger

/** Jaeger v2.13: the Go module is versioned as Jaeger v1's series (v1.76.0 is the v2.13.0 release). */
const DEFAULT_JAEGER_VERSION = '1.76.0';

/** The Jaeger module version (EDA_HARNESS_JAEGER_VERSION, checked: it becomes a cache folder), else the default. */
export function jaegerVersion(): string {
  const v = process.env['EDA_HARNESS_JAEGER_VERSION'];
  if (v === undefined || v === '') return DEFAULT_JAEGER_VERSION;
  if (!/^\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v)) {
    throw new ConfigError(`EDA_HARNESS_JAEGER_VERSION must be a version of the Go module github.com/jaegertracing/jaeger such as ${DEFAULT_JAEGER_VERSION} (got "${v}")`);
  }
  return v;
}

/** How Jaeger is built (exported for its unit test). */
export function jaegerSpec(version: string = jaegerVersion()): GoBinarySpec {
  return {
    name: 'Jaeger',
    cacheFolder: 'jaeger',
    version,
    binary: 'jaeger',
    // `go install …/cmd/jaeger@v…` refuses: Jaeger's go.mod has a replace directive.
    build: { kind: 'module-source', module: 'github.com/jaegertracing/jaeger', package: './cmd/jaeger' },
    ldflags: ['-s', '-w'],
    overrideVariable: 'EDA_HARNESS_JAEGER_BIN',
    overrideWhat: 'a Jaeger v2 binary',
    duration: 'several minutes',
  };
}

/**
 * Jaeger v2 (built on the OpenTelemetry Collector), built from its module's source through the Go
 * module proxy and cached under <cache>/jaeger/<version>/bin/jaeger; EDA_HARNESS_JAEGER_BIN names a
 * ready binary instead. A module build has no embedded web UI: the query API is what it serves.
 */
export async function ensureJaeger(options: ProvisionOptions = {}): Promise<string> {
  return ensureGoBinary(jaegerSpec(), options);
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
  return findOrInstall(
    findPrometheus,
    {
      packages: ['prometheus'],
      what: 'Prometheus and promtool',
      alternative: 'set PROMETHEUS_URL to use an existing Prometheus',
      stillMissing: 'prometheus was installed but its binaries were not found.',
    },
    options,
  );
}

// ----------------------------------------------------------------------------------- chromium

function findChromium(): string | undefined {
  return which('chromium', ['/usr/bin/chromium']) ?? which('chromium-browser');
}

/**
 * A headless Chromium, for the test that renders the chaos report's HTML and looks at it. Not part
 * of provisionAll: only that test needs it, so only it pays for the install (Debian's `chromium`).
 * CHROMIUM_BIN names an existing browser instead (Chrome or Chromium); it must exist, since a
 * wrong path silently replaced by an install would hide the mistake.
 */
export async function ensureChromium(options: ProvisionOptions = {}): Promise<string> {
  const given = process.env['CHROMIUM_BIN'];
  if (given !== undefined && given.trim() !== '') {
    if (!existsSync(given)) {
      throw new ConfigError(`CHROMIUM_BIN is ${given}, which does not exist.`, { hint: 'Point CHROMIUM_BIN at a Chrome or Chromium binary, or unset it to have the Debian package chromium installed.' });
    }
    return given;
  }
  return findOrInstall(
    findChromium,
    {
      packages: ['chromium'],
      what: 'Chromium (to render the chaos report in a headless browser)',
      alternative: 'set CHROMIUM_BIN to an existing Chrome or Chromium binary',
      stillMissing: 'chromium was installed but no chromium binary was found on PATH.',
      stillMissingHint: 'Set CHROMIUM_BIN to the browser binary.',
    },
    options,
  );
}

// ---------------------------------------------------------------------------- promtool 3

function promtool3Version(): string {
  return process.env['EDA_HARNESS_PROMTOOL3_VERSION'] ?? DEFAULT_PROMTOOL3_VERSION;
}

/**
 * promtool of Prometheus 3, built from source through the Go module proxy (Debian ships
 * Prometheus 2): the alert pack's promtool tests run on both, since Prometheus 3 changed
 * range-selector boundaries and `le` formatting. EDA_HARNESS_PROMTOOL3_BIN overrides.
 * Built without service discovery (the `remove_all_sd` tag): a few minutes cold.
 */
export async function ensurePromtool3(options: ProvisionOptions = {}): Promise<string> {
  return ensureGoBinary(
    {
      name: 'promtool (Prometheus module)',
      cacheFolder: 'promtool',
      version: promtool3Version(),
      binary: 'promtool',
      build: { kind: 'install', module: (v) => `github.com/prometheus/prometheus/cmd/promtool@v${v}` },
      // remove_all_sd: Prometheus's own build tag leaving out every service-discovery plugin (AWS,
      // Azure, GCE, Kubernetes … SDKs), which rule tests never use: the cold build drops from about
      // 9 to under 4 minutes on 2 cores.
      tags: ['remove_all_sd'],
      overrideVariable: 'EDA_HARNESS_PROMTOOL3_BIN',
      overrideWhat: 'a promtool 3 binary',
      duration: 'a few minutes',
    },
    options,
  );
}

// ------------------------------------------------------------------------------------- helm

const DEFAULT_HELM_VERSION = '3.22.0';
/**
 * The Kubernetes minor version of the client-go each Helm release is built with (helm's go.mod:
 * 3.22.0 has k8s.io/client-go v0.37.0). Helm's Makefile stamps it in with -ldflags; a plain
 * `go install` leaves Helm's fallback, Kubernetes 1.20, which `helm template` and `helm lint`
 * then assume (and refuse charts requiring a newer one).
 */
const HELM_KUBERNETES_MINOR: Readonly<Record<string, number>> = { '3.22.0': 37 };

/** What Helm's release build passes to the linker: its version and its Kubernetes version (when known). */
export function helmLdflags(version: string): string[] {
  const flags = ['-s', '-w', `-X helm.sh/helm/v3/internal/version.version=v${version}`];
  const minor = HELM_KUBERNETES_MINOR[version];
  if (minor !== undefined) {
    for (const pkg of ['helm.sh/helm/v3/pkg/lint/rules', 'helm.sh/helm/v3/pkg/chartutil']) {
      flags.push(`-X ${pkg}.k8sVersionMajor=1`, `-X ${pkg}.k8sVersionMinor=${minor}`);
    }
  }
  return flags;
}

function helmVersion(): string {
  return process.env['EDA_HARNESS_HELM_VERSION'] ?? DEFAULT_HELM_VERSION;
}

/**
 * Helm 3, built from source through the Go module proxy (Debian does not package it): the
 * exporter's chart (deploy/helm/eda-harness-exporter) is linted and rendered by `helm lint` and
 * `helm template` in the integration tests; neither needs a Kubernetes cluster. Helm has no build
 * tag that leaves parts out; `-s -w` drops the symbol tables (87 → about 60 MB) and the version
 * flags make `helm version` and the assumed Kubernetes version those of the release build.
 * EDA_HARNESS_HELM_BIN overrides; cached under <cache>/helm/<version>.
 */
export async function ensureHelm(options: ProvisionOptions = {}): Promise<string> {
  return ensureGoBinary(
    {
      name: 'Helm',
      cacheFolder: 'helm',
      version: helmVersion(),
      binary: 'helm',
      build: { kind: 'install', module: (v) => `helm.sh/helm/v3/cmd/helm@v${v}` },
      ldflags: helmLdflags(helmVersion()),
      overrideVariable: 'EDA_HARNESS_HELM_BIN',
      overrideWhat: 'a helm 3 binary',
      duration: 'a few minutes',
    },
    options,
  );
}

// ----------------------------------------------------------------------------- docker-compose

/**
 * Debian's docker-compose (1.29): `docker-compose config -q` validates docker-compose.yml with no
 * Docker engine, which is all the tests use it for. Returns the binary's path.
 */
export async function ensureDockerCompose(options: ProvisionOptions = {}): Promise<string> {
  return findOrInstall(
    () => which('docker-compose'),
    {
      packages: ['docker-compose'],
      what: 'docker-compose (to validate docker-compose.yml)',
      alternative: 'install docker-compose yourself',
      stillMissing: 'docker-compose was installed but is not on PATH.',
    },
    options,
  );
}

/**
 * Everything the native provider may need (Jaeger included: its cold build is the longest),
 * installed in one go (used by `eda-harness env provision` and CI). One run at a time per cache: a
 * second caller (each test lane's global set-up, or the provisioning `npm test` starts in the
 * background) waits for the first, then finds everything installed.
 */
export async function provisionAll(options: ProvisionOptions & { kafkaVersion?: string } = {}): Promise<void> {
  const lockDir = join(cacheDir(options), 'provision-all');
  if (existsSync(join(lockDir, '.lock'))) (options.progress ?? stderrProgress)(`waiting for the provisioning another run holds (${join(lockDir, '.lock')}; the one npm test starts in the background logs to .cache/provision.log)`);
  await withLock(lockDir, () => provisionEverything(options));
}

async function provisionEverything(options: ProvisionOptions & { kafkaVersion?: string }): Promise<void> {
  const version = options.kafkaVersion === undefined ? kafkaVersion() : checkKafkaVersion(options.kafkaVersion, 'kafkaVersion');
  // apt first, in one transaction, so a fresh machine pays for one `apt-get update`.
  const aptNeeded: string[] = [];
  if (!findRabbitMq()) aptNeeded.push('rabbitmq-server');
  if (!findPrometheus()) aptNeeded.push('prometheus');
  if (aptNeeded.length > 0) {
    await aptInstall(aptNeeded, aptNeeded.join(' and '), 'set AMQP_URL / PROMETHEUS_URL to use existing services', options);
  }
  // The Go builds one after another: each uses both cores.
  await Promise.all([
    ensureKafka(version, options),
    ensureToxiproxy(options)
      .then(() => ensurePromtool3(options))
      .then(() => ensureHelm(options))
      .then(() => ensureJaeger(options)),
  ]);
  await ensureRabbitMq(options);
  await ensurePrometheus(options);
}
