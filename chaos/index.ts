// What `eda-harness chaos` and teams writing their own scenarios use: the builder and its parts
// (workloads, faults, invariants), the catalog, the reports, and the types of all of them.
export { ChaosScenario, DEFAULT_TIMING, DEFAULT_RECOVERY_LIMIT_MS } from './scenario';
export type { RunOptions } from './scenario';
export { kafkaConnectionOf, kafkaClientOptions, kafkaClientSecurityFromEnv } from './kafka-connection';
export type { KafkaConnectionSettings } from './kafka-connection';
export type { AlertPackOptions } from './alert-watch';
export { Workload } from './workloads';
export type { WorkloadOptions, KafkaWorkloadOptions, KafkaTransactionalWorkloadOptions, RabbitMqWorkloadOptions } from './workloads';
export { Fault } from './faults';
export type { KafkaNodeChoice, SystemOption } from './faults';
export type { RabbitNodeChoice } from './rabbitmq-cluster-faults';
export { Invariant, defaultInvariants } from './invariants';
export type { AlertExpectation } from './invariants';
export { SCENARIO_NAMES, scenarioByName, selectScenarios, exactlyOnceInvariants } from './catalog';
export { renderJson, prepareReportDir, writeReports, summarize } from './report';
export type { HtmlReport, ReportPaths, ReportedService } from './report';
export type * from './types';
export { HISTORY_FORMAT, HISTORY_FORMAT_VERSION, historyFileName, parseHistory, readHistoryFile, HistoryLog, historyLine, observationsOf, judgeHistory, checkHistory, checkHistoryFile, summarizeChecks, checksJson } from './history';
export type { History, HistoryHeader, HistoryRecord, HistoryCheck, HistoryVerdicts, NotRecheckable } from './history';
export { invariantFromSpec } from './invariants';
export { loadServiceConfig, loadServiceConfigs, validateServiceConfig, serviceConfigProblems, serviceUnderTest, ServiceInvariant, serviceInvariants, serviceScenario, serviceScenarioNames, selectServiceScenarios, selectSuiteScenarios, SERVICE_FAULT_NAMES, spansOfOtlpJson, pactMessage } from './service';
export type { ServiceConfig, ResolvedServiceConfig, ServiceBrokers, ServiceCommand, ServiceFactory, StartedService, ServiceInput, ServiceOutput, ServiceDeadLetters, InputMessage, ServiceUnderTest, ServiceUnderTestOptions, PactMessageOptions } from './service';
export { jaegerTraces } from './trace-backend-jaeger';
export type { JaegerTracesOptions, TraceReader } from './trace-backend-jaeger';
export { recordedTraces } from './trace-backend-recorded';
export type { TraceBackend, TraceBackendRun, TraceReadRequest, SpansRead } from './trace-backend';
