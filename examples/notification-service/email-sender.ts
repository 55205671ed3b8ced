/** An email as the notification service renders it. */
export interface Email {
  readonly to: string;
  readonly subject: string;
  readonly template: string;
  readonly orderId: string;
  readonly messageId: string;
}

/** The outside world (an SMTP relay, an email API): it may fail, and failures may be transient. */
export interface EmailSender {
  send(email: Email): Promise<void>;
  sent(): readonly Email[];
  /** Every attempt, failed or not, so tests can see the retries. */
  readonly attempts: number;
}

export interface FakeEmailSenderOptions {
  /** Recipients on these domains always fail: a permanent problem the retries cannot fix. */
  readonly failingDomains?: readonly string[];
}

/** An in-memory sender for the reference system: records what it sent, fails for configured domains. */
export function createFakeEmailSender(options: FakeEmailSenderOptions = {}): EmailSender {
  const failing = new Set(options.failingDomains ?? ['bounce.invalid']);
  const sent: Email[] = [];
  let attempts = 0;
  return {
    async send(email) {
      attempts += 1;
      const domain = email.to.slice(email.to.lastIndexOf('@') + 1);
      if (failing.has(domain)) throw new Error(`mail relay refused ${email.to}`);
      sent.push(email);
    },
    sent: () => [...sent],
    get attempts() {
      return attempts;
    },
  };
}
