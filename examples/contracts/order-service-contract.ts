/** The provider both reference consumers hold a message contract with. */
export const ORDER_SERVICE_PROVIDER = 'order-service';
/** The provider state both interactions are given: the provider's setup receives `{ lines }` when a consumer asks for more. */
export const STATE_ORDER_WITH_TWO_LINES = 'a customer places an order with two lines';
