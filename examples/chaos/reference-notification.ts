import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { referenceNames } from '../reference-names';
import { emailsPerOrder } from './file-outbox';

/**
 * The reference system's notification service as a service under test: started as a process, fed
 * the SendEmail command of its consumer pact (pacts/notification-service-order-service.json, so
 * contract and chaos share one message) through the notifications exchange, its dead-letter queue
 * read by the harness, and probed afterwards for emails per order id from its file-backed gateway.
 * Its poison input is the pact's command without the x-message-type header, which the reference
 * handler rejects at once. `variant` picks the broken copy of the negative control.
 */
export type NotificationVariant = 'reference' | 'no-dedup';

function here(): string {
  return __dirname.includes(`${sep}dist${sep}`) ? __dirname : join(__dirname, '..', 'dist', 'chaos');
}

/** The pact, from the repository (examples/dist/chaos → pacts/). */
const PACT = join(here(), '..', '..', '..', 'pacts', 'notification-service-order-service.json');

interface SendEmailExample {
  readonly eventId: string;
  readonly occurredAt: string;
  readonly metadata: { correlationId: string };
  readonly payload: { orderId: string; subject: string; to: string; template: string };
}

/**
 * The pact's example SendEmail command, made an input: the input id as the order id, fresh event
 * and correlation ids, the send time; its amqp_header_* metadata as headers, its content type.
 */
function pactCommand(): (id: string, key: string, seq: number) => { value: string; headers: Record<string, string>; contentType: string } {
  const pact = JSON.parse(readFileSync(PACT, 'utf8')) as { interactions: { description: string; contents: { content: SendEmailExample }; metadata: Record<string, string> }[] };
  const example = pact.interactions.find((i) => i.description === 'a SendEmail command for an order confirmation');
  if (!example) throw new Error(`${PACT} has no interaction "a SendEmail command for an order confirmation"`);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(example.metadata)) if (k.startsWith('amqp_header_')) headers[k.slice('amqp_header_'.length)] = v;
  const c = example.contents.content;
  return (id) => ({
    value: JSON.stringify({ ...c, eventId: randomUUID(), occurredAt: new Date().toISOString(), metadata: { correlationId: randomUUID() }, payload: { ...c.payload, orderId: id, subject: `Your order ${id}` } }),
    headers,
    contentType: example.metadata['contentType'] ?? 'application/json',
  });
}

export function referenceNotificationConfig(variant: NotificationVariant = 'reference') {
  const run = randomBytes(3).toString('hex');
  const prefix = `chaos-${run}`;
  const names = referenceNames(prefix);
  const outbox = join(tmpdir(), `eda-harness-outbox-${run}.jsonl`);
  const command = pactCommand();
  return {
    name: variant === 'reference' ? 'reference-notification' : `broken-notification-${variant}`,
    version: '0.2.0',
    start: {
      command: process.execPath,
      args: [join(here(), 'notification-process.js')],
      // The negative control's gateway answers 400 ms after accepting an email, where the inputs
      // come every 100 ms: some command is always between "accepted" and its ack when the kill
      // lands, so the kill surely leaves one to redeliver and email again. (At 100 ms, now and
      // then no command was in that window, and the control did not bite.)
      env: { NOTIFICATION_PREFIX: prefix, EMAIL_OUTBOX_FILE: outbox, NOTIFICATION_VARIANT: variant, ...(variant === 'no-dedup' ? { EMAIL_LATENCY_MS: '400' } : {}) },
      // The reference service does not survive a lost connection (its connection has no 'error'
      // listener, so the process exits): started again as its orchestrator would.
      restartOnExit: true,
    },
    inputs: [
      {
        exchange: names.notificationsExchange,
        routingKey: names.emailRoutingKey,
        // The queue behind the exchange: its service-kill scenario checks the page for it.
        serviceQueue: names.emailQueue,
        keys: 4,
        messagesPerSecond: 10,
        message: command,
        // Not a SendEmail command: the handler dead-letters it without trying to send.
        poison: (id: string, key: string, seq: number) => {
          const m = command(id, key, seq);
          const headers: Record<string, string> = { ...(m.headers ?? {}) };
          delete headers['x-message-type'];
          return { ...m, headers };
        },
      },
    ],
    deadLetters: { queue: names.deadLetterQueue },
    effects: async () => emailsPerOrder(outbox),
    effectName: 'email',
  };
}
