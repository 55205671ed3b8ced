export { loadServiceConfig, loadServiceConfigs, validateServiceConfig, serviceConfigProblems } from './config';
export type { ServiceConfig, ResolvedServiceConfig, ServiceBrokers, ServiceCommand, ServiceFactory, StartedService, ServiceInput, ServiceOutput, ServiceDeadLetters, InputMessage } from './config';
export { serviceUnderTest } from './service-workload';
export type { ServiceUnderTest, ServiceUnderTestOptions } from './service-workload';
export { ServiceInvariant, serviceInvariants } from './invariants';
export { serviceScenario, serviceScenarioNames, selectServiceScenarios, selectSuiteScenarios, SERVICE_FAULT_NAMES } from './scenarios';
export { spansOfOtlpJson } from './otlp-receiver';
export { pactMessage } from './pact-message';
export type { PactMessageOptions } from './pact-message';
