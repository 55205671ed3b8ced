export * from './format';
export { parseHistory, readHistoryFile } from './reader';
export { HistoryLog, historyLine } from './writer';
export { observationsOf, NEVER_SETTLED } from './observations';
export { judgeHistory, checkHistory, checkHistoryFile } from './check';
export type { HistoryVerdicts, HistoryCheck, NotRecheckable } from './check';
export { summarizeChecks, checksJson } from './summary';
