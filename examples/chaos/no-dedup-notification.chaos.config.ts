import { referenceNotificationConfig } from './reference-notification';

/** Negative control: a gateway without the messageId idempotency key emails a redelivered command twice (fails effects-once under a service kill). */
export default referenceNotificationConfig('no-dedup');
