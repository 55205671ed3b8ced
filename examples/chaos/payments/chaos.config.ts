import { randomBytes } from 'node:crypto';
import { startPaymentService, type PaymentService } from './payment-service';

/**
 * The chaos config of the payment service: what docs/chaos.md shows a team writing. Compiled, it
 * is examples/dist/chaos/payments/chaos.config.js:
 *
 *   eda-harness chaos run --service examples/dist/chaos/payments/chaos.config.js
 *
 * The service runs in-process here (a factory); a service with a main script would say
 * `start: { command: 'node', args: ['dist/main.js'] }` instead, and get the SIGKILL scenarios too.
 */
const run = randomBytes(3).toString('hex');
const requests = `payments.requested-${run}`;
const authorized = `payments.authorized-${run}`;
let service: PaymentService | undefined;

export default {
  name: 'payments',
  version: '1.0.0',
  start: async ({ kafkaBrokers, tracerProvider }: { kafkaBrokers: readonly string[]; tracerProvider: import('@opentelemetry/api').TracerProvider }) => {
    service = await startPaymentService({ brokers: kafkaBrokers, requests, authorized, groupId: `payments-${run}`, tracerProvider });
    return service;
  },
  inputs: [
    {
      topic: requests,
      keys: 4,
      messagesPerSecond: 20,
      message: (id: string, key: string, seq: number) => ({ value: JSON.stringify({ paymentId: id, customer: key, amount: 100 + seq }) }),
    },
  ],
  // Outputs are matched to requests by their trace (the default); { field: 'paymentId' } would match by body.
  outputs: [{ topic: authorized }],
  effects: async () => service?.authorizations() ?? {},
  effectName: 'authorization',
  orderedPerKey: true,
};
