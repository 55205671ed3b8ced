import { referenceInventoryConfig } from './reference-inventory';

/** The reference inventory as two members of one consumer group: the service faults hit one of them. */
export default referenceInventoryConfig('reference', { instances: 2 });
