import { referenceInventoryConfig } from './reference-inventory';

/** Negative control: the inventory committing before it processes must fail no-loss under a service kill. */
export default referenceInventoryConfig('commit-before-processing');
