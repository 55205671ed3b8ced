import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import type { Email, EmailSender } from '../notification-service/email-sender';

/**
 * The email gateway of the notification service's chaos run, kept in a file (one accepted email a
 * line) so what was sent survives a SIGKILL of the service: the harness counts emails per order
 * from it afterwards (the effects probe). It answers `latencyMs` after accepting an email, as a
 * remote API does, so a kill can land between "accepted" and the service's ack: the command is
 * then redelivered and sent again. `dedupe` is an idempotency key: a gateway that has already
 * accepted the command's messageId accepts nothing more (what email APIs offer, and what the
 * reference handler's messageId is for); false is the negative control.
 */
export function createFileOutbox(path: string, options: { dedupe?: boolean; latencyMs?: number } = {}): EmailSender {
  const dedupe = options.dedupe ?? true;
  const latencyMs = options.latencyMs ?? 100;
  const sent: Email[] = [];
  let attempts = 0;
  const accepted = (messageId: string): boolean => readOutbox(path).some((e) => e.messageId === messageId);
  return {
    async send(email) {
      attempts += 1;
      if (!(dedupe && accepted(email.messageId))) {
        appendFileSync(path, `${JSON.stringify({ orderId: email.orderId, messageId: email.messageId, to: email.to })}\n`);
        sent.push(email);
      }
      await delay(latencyMs);
    },
    sent: () => [...sent],
    get attempts() {
      return attempts;
    },
  };
}

/** Every email the outbox accepted, in order (a line torn by a SIGKILL is skipped). */
export function readOutbox(path: string): { orderId: string; messageId: string }[] {
  if (!existsSync(path)) return [];
  const out: { orderId: string; messageId: string }[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line) as { orderId: string; messageId: string });
    } catch {
      // torn by a kill mid-write: not an accepted email
    }
  }
  return out;
}

/** Emails per order id: the effects probe of the notification service's chaos config. */
export function emailsPerOrder(path: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const e of readOutbox(path)) counts[e.orderId] = (counts[e.orderId] ?? 0) + 1;
  return counts;
}
