import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { allDashboards, dashboardFiles, dashboardQueries, dashboardVariableQueries } from '../../../dashboards/dashboard-files';
import { PROMETHEUS_BUILTIN_METRICS, referenceProblems, type KnownMetric } from '../../../alerts/promql-references';
import { METRICS, RESOURCE_LABEL, SERVICE_INFO_METRIC, singleSpellingLeMatchers } from '../../../semconv/index';
import { DEFAULT_DASHBOARD_OPTIONS, resolveDashboardOptions, serviceSeries } from '../../../dashboards/dashboard-kit';
import { DEFAULT_CLUSTER_LABEL } from '../../../exporter/index';

const root = join(__dirname, '..', '..', '..');
/**
 * What the code exports, read from semconv.ts on every run, plus Prometheus's own `up`. The
 * exporter adds the cluster label to every series it writes; instrumentation series may carry
 * service_name (OTel service.name promoted by OTLP ingestion or relabelling) and cluster as target labels.
 */
const withInfo = METRICS.some((m) => m.name === SERVICE_INFO_METRIC.name) ? METRICS : [...METRICS, SERVICE_INFO_METRIC];
const exported: KnownMetric[] = [
  ...withInfo.map((m) => ({ ...m, labels: [...m.labels, 'cluster', ...(m.producedBy === 'instrumentation' ? ['service_name'] : [])] })),
  ...PROMETHEUS_BUILTIN_METRICS.map((m) => ({ ...m, labels: [...m.labels, 'cluster'] })),
];
const exporterMetric = new Set(METRICS.filter((m) => m.producedBy === 'exporter').map((m) => m.name));
const rabbitExporterMetric = new Set(METRICS.filter((m) => m.producedBy === 'exporter' && (m.labels as readonly string[]).includes('vhost')).map((m) => m.name));

/** Every `metric{matchers}` selector of an expression. */
function selectors(expr: string): { metric: string; matchers: string }[] {
  return [...expr.matchAll(/([a-z_:][a-z0-9_:]*)\{([^}]*)\}/g)].map((m) => ({ metric: m[1]!, matchers: m[2]! }));
}

interface PanelLike {
  title?: string;
  type?: string;
  description?: string;
  fieldConfig?: { defaults?: { unit?: string } };
  targets?: { expr?: string; legendFormat?: string }[];
}
function panels(name: string, options = {}): PanelLike[] {
  return ((allDashboards(options).get(name)?.panels ?? []) as PanelLike[]).filter((p) => p.type !== 'row');
}
const names = [...allDashboards().keys()];

describe('dashboards', () => {
  it('committed dashboards/grafana/*.json are exactly what the generator produces', () => {
    const files = dashboardFiles();
    for (const [rel, content] of files) expect({ file: rel, content: readFileSync(join(root, rel), 'utf8') }).toEqual({ file: rel, content });
    const committed = readdirSync(join(root, 'dashboards', 'grafana')).filter((f) => f.endsWith('.json'));
    expect(committed.map((f) => `dashboards/grafana/${f}`).sort()).toEqual([...files.keys()].sort());
  });

  it('has the five dashboards, with unique uids and the template variables operators filter by', () => {
    const ds = allDashboards();
    expect([...ds.keys()]).toEqual(['messaging-overview', 'kafka-consumer-groups', 'rabbitmq-queues', 'dead-letters', 'exporter-health']);
    const uids = [...ds.values()].map((d) => d.uid);
    expect(new Set(uids).size).toBe(uids.length);
    const vars = (name: string) => (ds.get(name)?.templating?.list ?? []).map((v) => v.name);
    expect(vars('messaging-overview')).toEqual(['datasource', 'cluster', 'service', 'destination']);
    expect(vars('kafka-consumer-groups')).toEqual(['datasource', 'cluster', 'group', 'topic']);
    expect(vars('rabbitmq-queues')).toEqual(['datasource', 'cluster', 'vhost', 'queue']);
    expect(vars('dead-letters')).toEqual(['datasource', 'cluster', 'vhost', 'dlq']);
    expect(vars('exporter-health')).toEqual(['datasource', 'exporter', 'cluster']);
    for (const d of ds.values()) {
      const cluster = (d.templating?.list ?? []).find((v) => v.name === 'cluster');
      expect({ uid: d.uid, multi: cluster?.multi, includeAll: cluster?.includeAll, allValue: cluster?.allValue }).toEqual({ uid: d.uid, multi: true, includeAll: true, allValue: '.*' });
    }
  });

  it('every panel queries through the ${datasource} variable and has at least one query', () => {
    for (const [name, d] of allDashboards()) {
      for (const p of d.panels ?? []) {
        if (p.type === 'row') continue;
        const targets = 'targets' in p ? (p.targets ?? []) : [];
        expect({ dashboard: name, panel: p.title, targets: targets.length > 0, ds: p.datasource?.uid }).toEqual({ dashboard: name, panel: p.title, targets: true, ds: '${datasource}' });
      }
    }
  });

  it('latency panels ask for exemplars, so their points link to traces', () => {
    const latency = [...allDashboards().values()].flatMap((d) => (d.panels ?? []).filter((p) => /latency|time in queue|processing time|send time/i.test(p.title ?? '') && p.type !== 'stat'));
    expect(latency.length).toBeGreaterThanOrEqual(5);
    for (const p of latency) for (const t of 'targets' in p ? (p.targets ?? []) : []) expect({ panel: p.title, exemplar: (t as { exemplar?: boolean }).exemplar }).toEqual({ panel: p.title, exemplar: true });
  });

  describe('every panel query refers only to metrics and labels the code exports', () => {
    it.each(dashboardQueries().map((q) => [`${q.dashboard} / ${q.panel}`, q.expr] as const))('%s', (_name, expr) => {
      expect(referenceProblems(expr, exported)).toEqual([]);
    });
  });

  it('every template variable reads label_values of an exported metric and one of its labels (or a query_result over exported metrics)', () => {
    for (const v of dashboardVariableQueries()) {
      const r = /^query_result\((.*)\)$/.exec(v.expr);
      if (r) {
        expect({ variable: v.panel, problems: referenceProblems(r[1]!.replace(/\$(\d)/g, 'x'), exported) }).toEqual({ variable: v.panel, problems: [] });
        continue;
      }
      const m = /^label_values\(([a-z_:]+)(\{(.*)\})?, ([a-z_]+)\)$/.exec(v.expr);
      expect({ variable: v.panel, parsed: Boolean(m) }).toEqual({ variable: v.panel, parsed: true });
      const [, metric = '', , filter, label = ''] = m!;
      expect(referenceProblems(`max by (${label}) (${metric}${filter ? `{${filter.replace(/\$\w+/g, 'x')}}` : ''})`, exported)).toEqual([]);
    }
  });

  it('every selector of every panel query is filtered by $cluster (exporter series strictly, instrumentation series also when they carry no cluster label)', () => {
    for (const q of dashboardQueries()) {
      for (const sel of selectors(q.expr)) {
        const wanted = exporterMetric.has(sel.metric) ? 'cluster=~"$cluster"' : 'cluster=~"$cluster|"';
        expect({ panel: `${q.dashboard} / ${q.panel}`, metric: sel.metric, filtered: sel.matchers.includes(wanted) }).toEqual({ panel: `${q.dashboard} / ${q.panel}`, metric: sel.metric, filtered: true });
      }
    }
  });

  it('the cluster label follows the exporter clusterLabel option, which must be a label name', () => {
    const queries = dashboardQueries({ clusterLabel: 'kafka_cluster' });
    expect(queries.every((q) => !/\bcluster=~/.test(q.expr) && q.expr.includes('kafka_cluster=~"$cluster'))).toBe(true);
    expect(() => resolveDashboardOptions({ clusterLabel: 'kafka-cluster' })).toThrow('clusterLabel must be a Prometheus label name');
    expect(() => resolveDashboardOptions({ clusterLabel: '__name__' })).toThrow('clusterLabel must be a Prometheus label name');
    expect(() => resolveDashboardOptions({ partitionTopK: 0 })).toThrow('partitionTopK must be a whole number from 1 to 1000, got 0');
    expect(() => resolveDashboardOptions({ abandonedAfter: '1 hour' })).toThrow('abandonedAfter must be a Prometheus duration');
  });

  it('exporter series keep the cluster apart: every grouping includes it and every timeseries legend shows it', () => {
    for (const name of names) {
      for (const p of panels(name)) {
        for (const t of p.targets ?? []) {
          const expr = t.expr ?? '';
          if (!selectors(expr).some((s) => exporterMetric.has(s.metric))) continue;
          const panel = `${name} / ${p.title}`;
          // The selector inside `unless on (cluster, group) (...)` is the abandoned-group filter, already matched on cluster.
          for (const m of expr.matchAll(/\bby \(([^)]*)\)/g)) expect({ panel, by: m[1] }).toEqual({ panel, by: expect.stringMatching(/\bcluster\b/) });
          if (p.type === 'timeseries' || p.type === 'state-timeline') expect({ panel, legend: t.legendFormat }).toEqual({ panel, legend: expect.stringContaining('{{cluster}}') });
        }
      }
    }
  });

  it('RabbitMQ exporter series are filtered by $vhost on the RabbitMQ dashboards (DLQs keep Kafka, which has no vhost)', () => {
    for (const q of dashboardQueries().filter((x) => x.dashboard === 'rabbitmq-queues' || x.dashboard === 'dead-letters')) {
      for (const sel of selectors(q.expr).filter((s) => rabbitExporterMetric.has(s.metric))) {
        expect({ panel: `${q.dashboard} / ${q.panel}`, metric: sel.metric, vhost: /vhost=~"\$vhost\|?"/.test(sel.matchers) }).toEqual({ panel: `${q.dashboard} / ${q.panel}`, metric: sel.metric, vhost: true });
      }
    }
  });

  it('per-partition panels draw only the top N partitions and say so', () => {
    for (const k of [20, 7]) {
      const perPartition = names.flatMap((name) => panels(name, { partitionTopK: k }).filter((p) => (p.targets ?? []).some((t) => /\bpartition\b/.test(t.expr ?? ''))));
      expect(perPartition.map((p) => p.title)).toEqual(['Lag (messages) per partition', 'Lag (seconds) per partition', 'Last commit age per partition']);
      for (const p of perPartition) {
        for (const t of p.targets ?? []) expect({ panel: p.title, expr: t.expr }).toEqual({ panel: p.title, expr: expect.stringMatching(new RegExp(`^topk\\(${k}, `)) });
        expect({ panel: p.title, description: p.description }).toEqual({ panel: p.title, description: expect.stringContaining(`topk ${k}`) });
      }
    }
  });

  it('worst-lag panels follow $cluster and $destination and leave out groups STOP for the abandoned window; a stat counts those', () => {
    const overview = panels('messaging-overview', { abandonedAfter: '2h' });
    const worst = overview.filter((p) => /worst/i.test(p.title ?? ''));
    expect(worst.map((p) => p.title)).toEqual(['Worst consumer lag', 'Worst lag per group']);
    const abandoned = 'min_over_time(eda_kafka_consumer_status{cluster=~"$cluster"}[2h]) == 3 and max_over_time(eda_kafka_consumer_status{cluster=~"$cluster"}[2h]) == 3';
    for (const p of [...worst, overview.find((x) => x.title === 'Consumer groups not OK')!]) {
      const expr = p.targets?.[0]?.expr ?? '';
      expect({ panel: p.title, expr }).toEqual({ panel: p.title, expr: expect.stringContaining(`unless on (cluster, group) (${abandoned})`) });
      if (/worst/i.test(p.title ?? '')) expect(expr).toContain('eda_kafka_consumer_lag_seconds{cluster=~"$cluster", topic=~"$destination"}');
      expect(p.description).toContain('2h');
    }
    expect(overview.find((x) => x.title === 'Abandoned consumer groups')?.targets?.[0]?.expr).toBe(`count((${abandoned})) or vector(0)`);
  });

  it('rates have a rate unit (messages or operations per second), never the bare `short`', () => {
    for (const name of names) {
      for (const p of panels(name)) {
        const exprs = (p.targets ?? []).map((t) => t.expr ?? '');
        if (p.type === 'heatmap' || !exprs.some((e) => /\b(rate|deriv)\(/.test(e)) || exprs.some((e) => /histogram_quantile| \/ /.test(e))) continue;
        expect({ panel: `${name} / ${p.title}`, unit: p.fieldConfig?.defaults?.unit }).toEqual({ panel: `${name} / ${p.title}`, unit: expect.stringMatching(/^(mps|ops)$/) });
      }
    }
  });

  it('$service selects by service_name: the series\' own, else their target\'s eda_service_info, else the scrape job', () => {
    expect(serviceSeries('m', 'a="1"', (x) => `rate(${x}[5m])`, 'cluster=~"$cluster|"')).toBe(
      '(rate(m{service_name!="", service_name=~"$service", a="1"}[5m])' +
        ' or (rate(m{service_name="", a="1"}[5m]) * on (job, instance) group_left (service_name) eda_service_info{service_name=~"$service", cluster=~"$cluster|"})' +
        ' or (rate(m{service_name="", job=~"$service", a="1"}[5m]) unless on (job, instance) eda_service_info{cluster=~"$cluster|"}))',
    );
    const overview = dashboardQueries().filter((q) => q.dashboard === 'messaging-overview');
    const bySvc = overview.filter((q) => q.expr.includes('$service'));
    expect(bySvc.length).toBeGreaterThanOrEqual(8);
    const join = 'on (job, instance) group_left (service_name) eda_service_info{service_name=~"$service", cluster=~"$cluster|"}';
    const unlessNamed = 'unless on (job, instance) eda_service_info{cluster=~"$cluster|"}';
    for (const q of bySvc) {
      const sels = selectors(q.expr).filter((s) => s.metric !== SERVICE_INFO_METRIC.name && s.matchers.startsWith('service_name'));
      const primary = sels.filter((s) => s.matchers.startsWith('service_name!="", service_name=~"$service", '));
      expect({ panel: q.panel, primary: primary.length > 0 }).toEqual({ panel: q.panel, primary: true });
      // Each own-label selector has its info-joined twin and its job twin, with the same other matchers.
      expect(sels.length).toBe(primary.length * 3);
      for (const s of primary) {
        expect(sels).toContainEqual({ metric: s.metric, matchers: s.matchers.replace('service_name!="", service_name=~"$service"', 'service_name=""') });
        expect(sels).toContainEqual({ metric: s.metric, matchers: s.matchers.replace('service_name!="", service_name=~"$service"', 'service_name="", job=~"$service"') });
      }
      expect({ panel: q.panel, joins: q.expr.split(join).length - 1, unless: q.expr.split(unlessNamed).length - 1 }).toEqual({ panel: q.panel, joins: primary.length, unless: primary.length });
    }
    const service = dashboardVariableQueries().find((v) => v.dashboard === 'messaging-overview' && v.panel === '$service');
    const unnamed = 'group by (job, instance) (messaging_client_consumed_messages_total{service_name=""})';
    expect(service?.expr).toBe(
      'query_result(count by (service_name) (messaging_client_consumed_messages_total{service_name!=""}' +
        ` or (${unnamed} * on (job, instance) group_left (service_name) eda_service_info)` +
        ` or label_replace(${unnamed} unless on (job, instance) eda_service_info, "service_name", "$1", "job", "(.+)")))`,
    );
  });

  it('the default cluster label and the service label are semconv\'s RESOURCE_LABEL, shared with the exporter', () => {
    expect({ dashboards: DEFAULT_DASHBOARD_OPTIONS.clusterLabel, exporter: DEFAULT_CLUSTER_LABEL }).toEqual({ dashboards: RESOURCE_LABEL.CLUSTER, exporter: RESOURCE_LABEL.CLUSTER });
    expect(RESOURCE_LABEL).toEqual({ CLUSTER: 'cluster', SERVICE_NAME: 'service_name' });
    expect(SERVICE_INFO_METRIC.labels).toEqual([RESOURCE_LABEL.SERVICE_NAME]);
  });

  it('no panel or variable query selects one spelling of a whole-number bucket bound (Prometheus 3 writes le="1" as le="1.0")', () => {
    const all = [...dashboardQueries(), ...dashboardVariableQueries()];
    expect(all.filter((q) => /\ble\b/.test(q.expr)).length).toBeGreaterThan(0);
    expect(all.map((q) => ({ query: `${q.dashboard} / ${q.panel}`, bare: singleSpellingLeMatchers(q.expr) })).filter((q) => q.bare.length > 0)).toEqual([]);
  });

  it('exporter health shows what each collection read, partial failures by request, and the age of the served samples', () => {
    const health = panels('exporter-health');
    const expr = (title: string) => health.find((p) => p.title === title)?.targets?.[0]?.expr;
    expect(expr('Collected objects')).toBe('max by (cluster, target, object) (eda_exporter_collected_objects{job=~"$exporter", cluster=~"$cluster"})');
    expect(expr('Partial failures per second, by request')).toBe(
      'sum by (cluster, target, request) (rate(eda_exporter_partial_failures_total{job=~"$exporter", cluster=~"$cluster"}[$__rate_interval])) or 0 * max by (cluster, target) (eda_exporter_up{job=~"$exporter", cluster=~"$cluster"})',
    );
    expect(expr('Sample age')).toBe('time() - max by (cluster, target) (eda_exporter_last_collection_timestamp_seconds{job=~"$exporter", cluster=~"$cluster"})');
  });

  it('the Kafka dashboard shows messages lost to retention (0 when none) and groups by assignment kind', () => {
    const kafka = panels('kafka-consumer-groups');
    const expr = (title: string) => kafka.find((p) => p.title === title)?.targets?.[0]?.expr;
    const gt = 'cluster=~"$cluster", group=~"$group", topic=~"$topic"';
    expect(expr('Messages lost to retention')).toBe(
      `sum by (cluster, group, topic) (eda_kafka_consumer_retention_lost_messages{${gt}}) or 0 * sum by (cluster, group, topic) (eda_kafka_consumer_lag_messages{${gt}})`,
    );
    expect(expr('Groups by assignment')).toBe('count by (cluster, assignment) (eda_kafka_consumer_group_assignment{cluster=~"$cluster", group=~"$group"} == 1)');
  });
});
