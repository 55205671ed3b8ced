import { buildEnvironment, formatDescription, untilSignal } from './env-command';

export const START_HELP = `Usage: eda-harness start

Brings up the embedded environment (one Kafka node, RabbitMQ, Toxiproxy in front of both),
prints how to connect to it, and keeps it running until Ctrl-C, which tears everything down.
The first run installs what is missing (see \`eda-harness env provision\`).`;

export async function startCommand(): Promise<number> {
  const started = Date.now();
  const env = await buildEnvironment({ kafka: 1, rabbitmq: true, toxiproxy: true, prometheus: false, provider: undefined, kafkaVersion: undefined, runDir: undefined })
    .withCleanupOnExit(true)
    .start();
  console.log(formatDescription(env.describe()));
  console.log(`Ready in ${((Date.now() - started) / 1000).toFixed(1)} s. Press Ctrl-C to stop.`);
  await untilSignal();
  console.log('stopping…');
  await env.stop();
  return 0;
}
