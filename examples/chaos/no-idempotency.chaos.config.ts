import { referenceInventoryConfig } from './reference-inventory';

/** Negative control: the inventory without idempotency must fail effects-once under a service kill. */
export default referenceInventoryConfig('no-idempotency');
