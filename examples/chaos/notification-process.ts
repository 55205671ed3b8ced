import { setTimeout as delay } from 'node:timers/promises';
import { ROOT_CONTEXT, context } from '@opentelemetry/api';
import { startTelemetry } from '@eda-harness/instrumentation';
import { referenceNames } from '../reference-names';
import { startNotificationService, type NotificationService } from '../notification-service/notification-service';
import { createFileOutbox } from './file-outbox';

/**
 * The reference notification service as a process of its own, for the chaos harness to start,
 * kill and restart: it reads AMQP_URL and the OTEL_* variables the harness sets, consumes SendEmail
 * commands with the reference handler (bounded retries, poison nacked to the dead-letter queue)
 * and sends through a file-backed gateway (EMAIL_OUTBOX_FILE). The reference service does not
 * reconnect by itself; like its deployment's supervisor, this process starts it again whenever
 * its connection closes (a broker restart, a network cut).
 *
 * NOTIFICATION_VARIANT picks the gateway:
 *   reference   deduplicates by the command's messageId (an idempotency key): a redelivered command is not emailed twice
 *   no-dedup    the negative control: a command redelivered after the email was accepted is emailed again
 *
 * EMAIL_LATENCY_MS (default 100) is how long the gateway takes to answer after accepting an email.
 */
type Variant = 'reference' | 'no-dedup';

function required(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`notification-process: ${name} is not set`);
  return v;
}

async function main(): Promise<void> {
  const variant = (process.env['NOTIFICATION_VARIANT'] ?? 'reference') as Variant;
  if (!['reference', 'no-dedup'].includes(variant)) throw new Error(`notification-process: unknown NOTIFICATION_VARIANT ${variant}`);
  const telemetry = await startTelemetry({ serviceName: 'notification-service', metricsPort: false });
  const url = required('AMQP_URL');
  const names = referenceNames(required('NOTIFICATION_PREFIX'));
  const latency = process.env['EMAIL_LATENCY_MS'];
  const latencyMs = latency === undefined ? undefined : Number(latency);
  if (latencyMs !== undefined && !(Number.isInteger(latencyMs) && latencyMs >= 0)) throw new Error(`notification-process: EMAIL_LATENCY_MS is ${latency}: write a whole number of milliseconds`);
  const sender = createFileOutbox(required('EMAIL_OUTBOX_FILE'), { dedupe: variant !== 'no-dedup', ...(latencyMs === undefined ? {} : { latencyMs }) });
  const logger = { info: (m: string) => console.log(m), warn: (m: string, err?: unknown) => console.warn(m, err === undefined ? '' : String(err)) };
  let service: NotificationService | undefined;
  let stopping = false;
  const run = async (): Promise<void> => {
    for (let attempt = 1; !stopping; attempt++) {
      try {
        const s = await startNotificationService({ amqpUrl: url, names, sender, logger, prefetch: 10 });
        service = s;
        s.channel.on('error', (err: unknown) => console.warn(`notification: channel error: ${String(err)}`));
        s.channel.on('close', () => {
          if (service !== s || stopping) return;
          service = undefined;
          console.warn('notification: connection lost, starting the service again');
          // From the root context: this handler may run inside a delivery's process span, and a
          // consumer started there would parent every later process span on that one span (the
          // traces invariant caught exactly that) instead of on each message's producer.
          context.with(ROOT_CONTEXT, () => void run());
        });
        console.log(`notification-process (${variant}) consuming ${names.emailQueue}${attempt > 1 ? ` after ${attempt} attempts` : ''}`);
        return;
      } catch (err) {
        if (attempt === 1 || attempt % 10 === 0) console.warn(`notification: start attempt ${attempt} failed: ${String(err)}`);
        await delay(Math.min(2000, 250 * attempt));
      }
    }
  };
  await run();
  const stop = async (): Promise<void> => {
    stopping = true;
    await service?.stop().catch(() => undefined);
    await telemetry.shutdown().catch(() => undefined);
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
