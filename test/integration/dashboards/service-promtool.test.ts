import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { dashboardQueries, dashboardVariableQueries } from '../../../dashboards/dashboard-files';
import { ensurePrometheus } from '../../../environment/index';
import { ensurePromtool3 } from '../../../environment/provision';

/**
 * The overview's `$service` PromQL evaluated by Prometheus 2's and Prometheus 3's own engines
 * (promtool), over series that play out the three ways a series gets its service: its own
 * service_name label, its target's eda_service_info (two services sharing one scrape job), and the
 * job when its target has neither. The live Prometheus test runs Debian's 2.x only; this is where
 * the join and the latency panels meet Prometheus 3, with bucket bounds spelt as 3 writes them.
 */

const promtools = new Map<string, string>();
let dir = '';
beforeAll(async () => {
  promtools.set('2', (await ensurePrometheus()).promtool);
  promtools.set('3', await ensurePromtool3());
  dir = mkdtempSync(join(tmpdir(), 'eda-service-promtool-'));
}, 20 * 60_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const panel = (title: string): string => dashboardQueries().find((q) => q.dashboard === 'messaging-overview' && q.panel === title)!.expr;
const variable = (): string => /^query_result\((.*)\)$/.exec(dashboardVariableQueries().find((v) => v.dashboard === 'messaging-overview' && v.panel === '$service')!.expr)![1]!;
/** Grafana's substitution: the rate interval, the given variables as regexes, the rest "All". */
const sends = (expr: string, values: Record<string, string> = {}) =>
  expr.replace(/\$__rate_interval/g, '5m').replace(/\$\{?([A-Za-z_]\w*)\}?/g, (_m, name: string) => values[name] ?? '.*');

const minutes = 30;
const consumed = (target: string, destination: string, perSecond: number, extra = '') => ({
  series: `messaging_client_consumed_messages_total{${target}, messaging_system="kafka", messaging_destination_name="${destination}"${extra}}`,
  values: `0+${perSecond * 60}x${minutes}`,
});
const info = (target: string, service: string) => ({ series: `eda_service_info{${target}, service_name="${service}"}`, values: `1x${minutes}` });
// Bounds as Prometheus 3 stores them ("1.0"); the other target's as Prometheus 2 does ("1").
const bucket = (target: string, le: string, perSecond: number) => ({
  series: `eda_message_e2e_latency_seconds_bucket{${target}, stage="processed", messaging_destination_name="orders", le="${le}"}`,
  values: `0+${perSecond * 60}x${minutes}`,
});

const A = 'job="apps", instance="a:9465"';
const B = 'job="apps", instance="b:9465"';
const C = 'job="otel", instance="c:9464"';
const D = 'job="legacy", instance="d:9465"';
const input_series = [
  consumed(A, 'orders', 1),
  info(A, 'inventory'),
  consumed(B, 'emails', 2),
  info(B, 'notification'),
  consumed(C, 'invoices', 4, ', service_name="billing"'),
  consumed(D, 'audit', 8),
  bucket(A, '0.5', 0.5),
  bucket(A, '1.0', 1),
  bucket(A, '+Inf', 1),
  bucket(D, '0.5', 0.5),
  bucket(D, '1', 1),
  bucket(D, '+Inf', 1),
];

const bySystemAndDestination = (destination: string, value: number) => ({ labels: `{messaging_system="kafka", messaging_destination_name="${destination}"}`, value });

describe.each(['2', '3'])('promtool of Prometheus %s', (major) => {
  it('$service offers every service by the first name a series has, and each selection shows only that service\'s series', () => {
    const perSecond = panel('Consumed per second');
    const tests = {
      interval: '1m',
      input_series,
      promql_expr_test: [
        {
          expr: variable(),
          eval_time: `${minutes}m`,
          exp_samples: ['inventory', 'notification', 'billing', 'legacy'].map((s) => ({ labels: `{service_name="${s}"}`, value: 1 })),
        },
        {
          expr: sends(perSecond),
          eval_time: `${minutes}m`,
          exp_samples: [bySystemAndDestination('orders', 1), bySystemAndDestination('emails', 2), bySystemAndDestination('invoices', 4), bySystemAndDestination('audit', 8)],
        },
        { expr: sends(perSecond, { service: 'inventory' }), eval_time: `${minutes}m`, exp_samples: [bySystemAndDestination('orders', 1)] },
        { expr: sends(perSecond, { service: 'notification|billing' }), eval_time: `${minutes}m`, exp_samples: [bySystemAndDestination('emails', 2), bySystemAndDestination('invoices', 4)] },
        { expr: sends(perSecond, { service: 'legacy' }), eval_time: `${minutes}m`, exp_samples: [bySystemAndDestination('audit', 8)] },
        // The job two named services share names nothing: they are not "apps".
        { expr: sends(perSecond, { service: 'apps' }), eval_time: `${minutes}m`, exp_samples: [] },
        // Half the messages under 0.5 s, all under 1 s, on both spellings of the 1 s bound: the median is 0.5 s.
        {
          expr: sends(panel('End-to-end latency distribution')),
          eval_time: `${minutes}m`,
          exp_samples: [
            { labels: '{le="0.5"}', value: 1 },
            { labels: '{le="1.0"}', value: 1 },
            { labels: '{le="1"}', value: 1 },
            { labels: '{le="+Inf"}', value: 2 },
          ],
        },
        { expr: `histogram_quantile(0.5, ${/^histogram_quantile\(0\.99, (.*)\)$/.exec(sends(panel('p99 end-to-end latency')))![1]!})`, eval_time: `${minutes}m`, exp_samples: [{ labels: '{}', value: 0.5 }] },
      ],
    };
    writeFileSync(join(dir, 'empty.yml'), 'groups: []\n');
    writeFileSync(join(dir, `service-${major}.test.yml`), stringify({ rule_files: ['empty.yml'], evaluation_interval: '1m', tests: [tests] }));
    const res = spawnSync(promtools.get(major)!, ['test', 'rules', `service-${major}.test.yml`], { cwd: dir, encoding: 'utf8' });
    expect({ status: res.status, output: `${res.stdout}${res.stderr}` }).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
  });
});
