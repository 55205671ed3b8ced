import { randomUUID } from 'node:crypto';

/** Identity and time of one outgoing message; injectable so tests and contracts are deterministic where they need to be. */
export interface MessageContext {
  readonly eventId: string;
  readonly occurredAt: Date;
  readonly correlationId: string;
}

export interface MessageContextSource {
  readonly newId?: () => string;
  readonly now?: () => Date;
}

/** A fresh context: a new uuid, now, and the caller's correlation id (or a new one that starts a conversation). */
export function messageContext(source: MessageContextSource = {}, correlationId?: string): MessageContext {
  const newId = source.newId ?? randomUUID;
  return { eventId: newId(), occurredAt: (source.now ?? (() => new Date()))(), correlationId: correlationId ?? newId() };
}
