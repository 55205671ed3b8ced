import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { allDashboards, dashboardFiles, dashboardQueries, dashboardVariableQueries } from '../../../dashboards/dashboard-files';
import { PROMETHEUS_BUILTIN_METRICS, referenceProblems, type KnownMetric } from '../../../alerts/promql-references';
import { METRICS } from '../../../semconv/index';

const root = join(__dirname, '..', '..', '..');
/** What the code exports, read from semconv.ts on every run, plus Prometheus's own `up`. */
const exported: KnownMetric[] = [...METRICS, ...PROMETHEUS_BUILTIN_METRICS];

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
    expect(vars('messaging-overview')).toEqual(['datasource', 'service', 'destination']);
    expect(vars('kafka-consumer-groups')).toEqual(['datasource', 'group', 'topic']);
    expect(vars('rabbitmq-queues')).toEqual(['datasource', 'queue']);
    expect(vars('dead-letters')).toEqual(['datasource', 'dlq']);
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

  it('every template variable reads label_values of an exported metric and one of its labels', () => {
    for (const v of dashboardVariableQueries()) {
      const m = /^label_values\(([a-z_:]+)(\{(.*)\})?, ([a-z_]+)\)$/.exec(v.expr);
      expect({ variable: v.panel, parsed: Boolean(m) }).toEqual({ variable: v.panel, parsed: true });
      const [, metric = '', , filter, label = ''] = m!;
      expect(referenceProblems(`max by (${label}) (${metric}${filter ? `{${filter.replace(/\$\w+/g, 'x')}}` : ''})`, exported)).toEqual([]);
    }
  });
});
