// The reference system as the demo, the dashboards' and chaos' checks run it.
export { startReferenceSystem } from './reference-system';
export type { ReferenceSystem, ReferenceSystemOptions } from './reference-system';
export { startTraffic } from './traffic';
export type { Traffic, TrafficOptions, TrafficStats } from './traffic';
export { referenceNames } from './reference-names';
export type { PlacedOrder } from './order-service/order-service';
export type { KafkaSecurityOptions, Order, ReferenceInstrumentation, ReferenceNames, ReferenceServiceName, ServiceLogger } from './types';
// The order service's side of its message contracts: what `eda-harness contracts verify` verifies by default.
export { orderServiceProvider } from './contracts/order-service-provider';
export type { OrderServiceProviderOptions } from './contracts/order-service-provider';
