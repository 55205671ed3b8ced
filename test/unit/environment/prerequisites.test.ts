import { ensureDockerCompose, ensureKafka, ensurePromtool3, ensureToxiproxy } from '../../../environment/provision';
import { PrerequisiteError } from '../../../core/errors';

/**
 * On a machine without the tools (and without apt-get to install them), provisioning must fail
 * with one clear message: what is missing, what to install, or which variable to set instead.
 */
describe('missing prerequisites', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('no Java and no apt-get: names the package, JAVA_HOME and KAFKA_BROKERS', async () => {
    process.env['PATH'] = '/nonexistent';
    delete process.env['JAVA_HOME'];
    delete process.env['KAFKA_HOME'];
    const err = await ensureKafka('4.4.0', { progress: () => undefined }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PrerequisiteError);
    const e = err as PrerequisiteError;
    expect(e.code).toBe('PREREQUISITE_MISSING');
    expect(e.message).toMatch(/Java .* is not installed.*no apt-get/);
    expect(e.hint).toMatch(/openjdk-17-jre-headless/);
    expect(e.hint).toMatch(/JAVA_HOME/);
    expect(e.hint).toMatch(/KAFKA_BROKERS/);
  });

  it('a KAFKA_HOME without libs/ is refused with what to do', async () => {
    process.env['KAFKA_HOME'] = '/nonexistent-kafka';
    const err = await ensureKafka('4.4.0', { progress: () => undefined }).catch((e: unknown) => e);
    // Java is checked first (it is on every machine of this kind), then KAFKA_HOME.
    expect(err).toBeInstanceOf(PrerequisiteError);
    expect((err as PrerequisiteError).message).toMatch(/KAFKA_HOME=\/nonexistent-kafka has no libs/);
  });

  it('no docker-compose and no apt-get: one error naming the package and what else to do', async () => {
    process.env['PATH'] = '/nonexistent';
    const err = await ensureDockerCompose({ progress: () => undefined }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PrerequisiteError);
    expect((err as PrerequisiteError).message).toMatch(/^docker-compose .* is not installed, and eda-harness cannot install it here \(no apt-get\)/);
    expect((err as PrerequisiteError).hint).toMatch(/sudo apt-get install docker-compose.*install docker-compose yourself/);
  });

  it('an EDA_HARNESS_TOXIPROXY_BIN that does not exist is reported as such', async () => {
    process.env['EDA_HARNESS_TOXIPROXY_BIN'] = '/nonexistent/toxiproxy-server';
    await expect(ensureToxiproxy({ progress: () => undefined })).rejects.toThrow(/EDA_HARNESS_TOXIPROXY_BIN=\/nonexistent\/toxiproxy-server does not exist/);
  });

  it('an EDA_HARNESS_PROMTOOL3_BIN that does not exist is reported as such', async () => {
    process.env['EDA_HARNESS_PROMTOOL3_BIN'] = '/nonexistent/promtool';
    await expect(ensurePromtool3({ progress: () => undefined })).rejects.toThrow(/EDA_HARNESS_PROMTOOL3_BIN=\/nonexistent\/promtool does not exist/);
  });
});
