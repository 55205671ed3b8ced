import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { dashboardQueries } from '../../../dashboards/dashboard-files';
import { ensurePrometheus } from '../../../environment/index';
import { ensurePromtool3 } from '../../../environment/provision';

/**
 * The worst-lag panels' PromQL, evaluated by promtool (Prometheus's own engine) over series that
 * play out the cases: a group STOP for longer than the abandoned window is left out (and counted),
 * a group that stopped recently still shows, a group of the same name in another cluster is not
 * touched, and the cluster variable narrows the result.
 */

const overview = (options = {}) => new Map(dashboardQueries(options).filter((q) => q.dashboard === 'messaging-overview').map((q) => [q.panel, q.expr]));
/** Variables as Grafana substitutes them (regex context); the rest as "All". */
const sends = (expr: string, values: Record<string, string> = {}) => expr.replace(/\$\{?([A-Za-z_]\w*)\}?/g, (_m, name: string) => values[name] ?? '.*');

let dir = '';
// Both majors, as the alert tests: Prometheus 3 changed range-selector boundaries and `le` formatting.
const promtools = new Map<string, string>();
beforeAll(async () => {
  promtools.set('2', (await ensurePrometheus()).promtool);
  promtools.set('3', await ensurePromtool3());
  dir = mkdtempSync(join(tmpdir(), 'eda-worst-lag-'));
}, 20 * 60_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const minutes = 180;
const status = (cluster: string, group: string, values: string) => ({ series: `eda_kafka_consumer_status{cluster="${cluster}", group="${group}"}`, values });
const lag = (cluster: string, group: string, seconds: number) => ({ series: `eda_kafka_consumer_lag_seconds{cluster="${cluster}", group="${group}", topic="orders", partition="0"}`, values: `${seconds}x${minutes}` });

describe.each(['2', '3'])('promtool of Prometheus %s', (major) => {
function runPromtool(tests: unknown): { status: number | null; output: string } {
  const promtool = promtools.get(major);
  if (!promtool) throw new Error(`promtool of Prometheus ${major} was not provisioned`);
  writeFileSync(join(dir, 'empty.yml'), 'groups: []\n');
  writeFileSync(join(dir, 'worst-lag.test.yml'), stringify({ rule_files: ['empty.yml'], evaluation_interval: '1m', tests: [tests] }));
  const res = spawnSync(promtool, ['test', 'rules', 'worst-lag.test.yml'], { cwd: dir, encoding: 'utf8' });
  return { status: res.status, output: `${res.stdout}${res.stderr}` };
}

test('abandoned groups (STOP for the whole window) leave the worst-lag panels and are counted; recent STOPs and other clusters stay', () => {
  const q = overview();
  const input_series = [
    status('a', 'abandoned', `3x${minutes}`),
    lag('a', 'abandoned', 90000),
    // STOP for the last 50 minutes only: still a live incident, must show.
    status('a', 'just-stopped', `0x${minutes - 50} 3x50`),
    lag('a', 'just-stopped', 500),
    status('a', 'healthy', `0x${minutes}`),
    lag('a', 'healthy', 10),
    // Same group name in cluster b, working: the exclusion matches on cluster too.
    status('b', 'abandoned', `0x${minutes}`),
    lag('b', 'abandoned', 50),
  ];
  const at = `${minutes}m`;
  const result = runPromtool({
    interval: '1m',
    input_series,
    promql_expr_test: [
      {
        expr: sends(q.get('Worst lag per group')!),
        eval_time: at,
        exp_samples: [
          { labels: '{cluster="a", group="just-stopped"}', value: 500 },
          { labels: '{cluster="a", group="healthy"}', value: 10 },
          { labels: '{cluster="b", group="abandoned"}', value: 50 },
        ],
      },
      { expr: sends(q.get('Worst consumer lag')!), eval_time: at, exp_samples: [{ labels: '{}', value: 500 }] },
      { expr: sends(q.get('Worst consumer lag')!, { cluster: 'b' }), eval_time: at, exp_samples: [{ labels: '{}', value: 50 }] },
      { expr: sends(q.get('Abandoned consumer groups')!), eval_time: at, exp_samples: [{ labels: '{}', value: 1 }] },
      { expr: sends(q.get('Abandoned consumer groups')!, { cluster: 'b' }), eval_time: at, exp_samples: [{ labels: '{}', value: 0 }] },
      { expr: sends(q.get('Consumer groups not OK')!), eval_time: at, exp_samples: [{ labels: '{}', value: 1 }] },
    ],
  });
  expect(result).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
});

test('a group STOP for 2 h is abandoned with the 1 h default, not with a 3 h window (then it tops the worst lag)', () => {
  const stopped2h = [status('a', 'stopped', `0x${minutes - 120} 3x120`), lag('a', 'stopped', 90000), status('a', 'healthy', `0x${minutes}`), lag('a', 'healthy', 10)];
  const byDefault = overview();
  expect(
    runPromtool({
      interval: '1m',
      input_series: stopped2h,
      promql_expr_test: [
        { expr: sends(byDefault.get('Worst consumer lag')!), eval_time: `${minutes}m`, exp_samples: [{ labels: '{}', value: 10 }] },
        { expr: sends(byDefault.get('Abandoned consumer groups')!), eval_time: `${minutes}m`, exp_samples: [{ labels: '{}', value: 1 }] },
      ],
    }),
  ).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
  const q = overview({ abandonedAfter: '3h' });
  const result = runPromtool({
    interval: '1m',
    input_series: stopped2h,
    promql_expr_test: [
      { expr: sends(q.get('Worst consumer lag')!), eval_time: `${minutes}m`, exp_samples: [{ labels: '{}', value: 90000 }] },
      { expr: sends(q.get('Abandoned consumer groups')!), eval_time: `${minutes}m`, exp_samples: [{ labels: '{}', value: 0 }] },
    ],
  });
  expect(result).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
});
});
