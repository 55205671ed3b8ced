import type { BadInputCase } from '../../../support/bad-input';

const config = (json: string): Record<string, string> => ({ 'alerts.json': json });
const build = ['alerts', 'build', '--config', 'alerts.json', '--out', '{dir}/out'];
const list = ['alerts', 'list', '--config', 'alerts.json'];

/** `eda-harness alerts`: subcommands, --out, --config (the file and every kind of bad value in it), --defaults. */
export const cases: readonly BadInputCase[] = [
  { name: 'no subcommand', argv: ['alerts'], exit: 2, message: 'expected "build" or "list", got nothing' },
  { name: 'an unknown subcommand', argv: ['alerts', 'deploy'], exit: 2, message: 'expected "build" or "list", got "deploy"' },
  { name: 'an unknown flag', argv: ['alerts', 'build', '--bogus'], exit: 2, message: "Unknown option '--bogus'" },
  { name: 'an extra argument', argv: ['alerts', 'build', 'now', '--out', '{dir}/out'], exit: 2, message: 'alerts build takes no arguments, got "now"' },
  { name: 'list --out (list prints, it writes nothing)', argv: ['alerts', 'list', '--out', '{dir}/out'], exit: 2, message: '--out is for `alerts build`' },
  // --out
  { name: '--out /proc/forbidden fails at once (Node 20 mkdir -p spins forever there)', argv: ['alerts', 'build', '--out', '/proc/forbidden'], exit: 2, message: 'Cannot create the --out folder /proc/forbidden', deadlineMs: 10_000 },
  { name: '--out /proc (a folder that takes no new folders)', argv: ['alerts', 'build', '--out', '/proc'], exit: 2, message: 'Cannot create the output folder /proc/alerts/prometheus', deadlineMs: 10_000 },
  { name: "--out ''", argv: ['alerts', 'build', '--out', ''], exit: 2, message: '--out must name a folder, got ""' },
  { name: '--out without a value', argv: ['alerts', 'build', '--out'], exit: 2, message: "Option '--out <value>' argument missing" },
  { name: '--out naming a file', argv: ['alerts', 'build', '--out', '{dir}/file'], files: { file: '' }, exit: 2, message: 'Cannot use {dir}/file for the --out folder' },
  { name: '--out where a rule folder is a file: nothing is written', argv: ['alerts', 'build', '--out', '{dir}'], files: { 'alerts/grafana': 'a file' }, exit: 2, message: 'Cannot use {dir}/alerts/grafana for the output folder' },
  // --defaults
  { name: '--defaults prints the configuration', argv: ['alerts', '--defaults'], exit: 0, message: '"exporterJob": "eda-exporter"' },
  { name: '--defaults with a value', argv: ['alerts', '--defaults=yes'], exit: 2, message: "Option '--defaults' does not take an argument" },
  // --config: the file
  { name: "--config ''", argv: ['alerts', 'list', '--config', ''], exit: 2, message: '--config must name a JSON file, got ""' },
  { name: '--config without a value', argv: ['alerts', 'list', '--config'], exit: 2, message: "Option '--config <value>' argument missing" },
  { name: '--config naming a missing file', argv: ['alerts', 'list', '--config', '{dir}/missing.json'], exit: 2, message: 'cannot read alerts config {dir}/missing.json (no such file, ENOENT)' },
  { name: '--config naming a folder', argv: ['alerts', 'list', '--config', '{dir}'], exit: 2, message: 'cannot read alerts config {dir} (it is a folder, EISDIR)' },
  { name: '--config /dev/zero is not read forever', argv: ['alerts', 'list', '--config', '/dev/zero'], exit: 2, message: 'alerts config /dev/zero is larger than 1 MiB', deadlineMs: 10_000 },
  { name: 'a config that is not JSON names the parser error and where', argv: list, files: config('{\n  "labels": {team: "x"}\n}'), exit: 2, message: /alerts config alerts\.json is not valid JSON: .*property name.* \(line 2, column 14\)/ },
  { name: 'an empty config file', argv: list, files: config(''), exit: 2, message: 'is not valid JSON: Unexpected end of JSON input' },
  { name: 'a config holding null', argv: list, files: config('null'), exit: 2, message: 'alerts config alerts.json must be a JSON object, got null' },
  { name: 'a config holding an array', argv: list, files: config('[]'), exit: 2, message: 'alerts.json must be a JSON object, got an array' },
  { name: 'an unknown key', argv: list, files: config('{"thresold": {}}'), exit: 2, message: 'alerts.json: unknown key(s) thresold' },
  // --config: values
  { name: 'exporterJob that tries to end the selector stays one escaped label value', argv: list, files: config('{"exporterJob": "x\\"} or vector(1) #"}'), exit: 0, message: 'EdaExporterDown [critical, for 2m] up{job="x\\"} or vector(1) #"} == 0' },
  { name: 'exporterJob empty', argv: build, files: config('{"exporterJob": ""}'), exit: 2, message: 'alerts.json: exporterJob must not be empty' },
  { name: 'exporterJob with a newline', argv: build, files: config('{"exporterJob": "a\\nb"}'), exit: 2, message: 'alerts.json: exporterJob must not contain control characters' },
  { name: 'labels.alertname would rename every alert', argv: build, files: config('{"labels": {"alertname": "Renamed"}}'), exit: 2, message: 'alerts.json: labels.alertname is reserved: Prometheus and Grafana name each alert with it' },
  { name: 'labels.severity is set by the pack', argv: build, files: config('{"labels": {"severity": "page"}}'), exit: 2, message: 'alerts.json: labels.severity is reserved' },
  { name: 'labels.__name__ is reserved', argv: build, files: config('{"labels": {"__name__": "x"}}'), exit: 2, message: 'alerts.json: labels.__name__ is reserved' },
  { name: 'a label name Prometheus cannot store', argv: build, files: config('{"labels": {"my-team": "x"}}'), exit: 2, message: 'alerts.json: labels."my-team" is not a Prometheus label name' },
  { name: 'a label value with a template action', argv: build, files: config('{"labels": {"team": "{{ $value"}}'), exit: 2, message: 'alerts.json: labels.team must not contain "{{"' },
  { name: 'a label value that is not a string', argv: build, files: config('{"labels": {"team": 1}}'), exit: 2, message: 'alerts.json: labels.team must be a string, got 1' },
  { name: 'runbookUrl with a template action', argv: build, files: config('{"runbookUrl": "https://x/{{ .Bogus"}'), exit: 2, message: 'alerts.json: runbookUrl must not contain "{{"' },
  { name: 'a threshold of 1e999 is not a finite number (not "got null")', argv: build, files: config('{"thresholds": {"dlqRatio": 1e999}}'), exit: 2, message: 'alerts.json: thresholds.dlqRatio is not a finite number' },
  { name: 'a threshold given as a string', argv: build, files: config('{"thresholds": {"kafkaLagSecondsWarning": "300"}}'), exit: 2, message: 'alerts.json: thresholds.kafkaLagSecondsWarning must be a number, got "300"' },
  { name: 'a negative threshold', argv: build, files: config('{"thresholds": {"exporterStaleSeconds": -1}}'), exit: 2, message: 'alerts.json: thresholds.exporterStaleSeconds must be 0 or more, got -1' },
  { name: 'a ratio of 1 or more', argv: build, files: config('{"thresholds": {"dlqRatio": 1}}'), exit: 2, message: 'alerts.json: thresholds.dlqRatio is a ratio and must be below 1, got 1' },
  { name: 'an SLO threshold between latency buckets', argv: build, files: config('{"thresholds": {"e2eLatencySloSeconds": 0.7}}'), exit: 2, message: 'thresholds.e2eLatencySloSeconds must be one of the latency buckets' },
  { name: 'a window too long for a PromQL duration', argv: build, files: config('{"thresholds": {"dlqArrivingWindowSeconds": 1e21}}'), exit: 2, message: 'thresholds.dlqArrivingWindowSeconds must be a whole number of seconds from 1 to 31536000' },
  { name: 'critical below warning', argv: build, files: config('{"thresholds": {"kafkaLagSecondsWarning": 1000}}'), exit: 2, message: 'thresholds.kafkaLagSecondsCritical (900) must not be below thresholds.kafkaLagSecondsWarning (1000)' },
  { name: 'for: naming no alert', argv: build, files: config('{"for": {"KafkaConsumerStoped": "1m"}}'), exit: 2, message: 'alerts.json: for.KafkaConsumerStoped names no alert rule' },
  { name: 'for: a duration Prometheus refuses (units out of order)', argv: build, files: config('{"for": {"KafkaConsumerStopped": "30m1h"}}'), exit: 2, message: 'alerts.json: for.KafkaConsumerStopped must be a Prometheus duration such as "30s" or "5m", got "30m1h"' },
  { name: 'evaluationInterval not a duration', argv: build, files: config('{"evaluationInterval": "often"}'), exit: 2, message: 'alerts.json: evaluationInterval must be a Prometheus duration such as "30s" or "1m", got "often"' },
  { name: 'grafana.interval not a duration', argv: build, files: config('{"grafana": {"interval": "1 m"}}'), exit: 2, message: 'alerts.json: grafana.interval must be a Prometheus duration such as "1m", got "1 m"' },
  { name: 'grafana.datasourceUid empty', argv: build, files: config('{"grafana": {"datasourceUid": ""}}'), exit: 2, message: 'alerts.json: grafana.datasourceUid must not be empty' },
  { name: 'grafana with an unknown key', argv: build, files: config('{"grafana": {"uid": "x"}}'), exit: 2, message: 'alerts.json: grafana: unknown key(s) uid' },
];
