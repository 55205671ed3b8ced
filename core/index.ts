import './dispose';
export { EdaHarnessError, ConfigError, PrerequisiteError, ProvisionError, ProcessError, BrokerUnreachableError, TimeoutError, UnsupportedError, ToxiproxyError, ContractError, HttpRequestError, NotReadyError, EnvironmentStartError, errorMessage } from './errors';
export type { ErrorCode, EdaHarnessErrorOptions } from './errors';
export { waitFor } from './wait-for';
export type { WaitForOptions } from './wait-for';
export { stderrProgress, silentProgress } from './progress';
export type { ProgressSink } from './progress';
export { writeGeneratedFiles } from './write-generated-files';
export { withDeadline } from './deadline';
export { requestJson, requestText } from './http-json';
export type { HttpJsonRequest } from './http-json';
export { ensureDir } from './ensure-dir';
export type { EnsureDirOptions } from './ensure-dir';
export {
  KAFKA_SASL_MECHANISMS,
  KAFKA_SECURITY_PROTOCOLS,
  KAFKA_SECURITY_VARIABLES,
  checkKafkaSecuritySettings,
  isSecured,
  kafkaClientSecurity,
  kafkaSecurityFromEnv,
  securedListenerSettings,
  tokenOf,
} from './kafka-security';
export type {
  KafkaClientSasl,
  KafkaClientSecurity,
  KafkaClientTls,
  KafkaSaslSettings,
  KafkaSecurityField,
  KafkaSecurityIo,
  KafkaSecuritySettings,
  KafkaSettingNamer,
  KafkaTlsSettings,
} from './kafka-security';
