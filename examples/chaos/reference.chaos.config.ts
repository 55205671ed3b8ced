import { referenceInventoryConfig } from './reference-inventory';

/** `eda-harness chaos run --service examples/dist/chaos/reference.chaos.config.js` */
export default referenceInventoryConfig('reference');
