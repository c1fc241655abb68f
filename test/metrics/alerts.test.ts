import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { parse } from 'yaml';
import { scrape } from '../fixtures/metrics-exposition.js';
import { build } from '../helper.js';

const docker = fileURLToPath(new URL('../../docker/', import.meta.url));
const readYaml = async (file: string) => parse(await readFile(path.join(docker, file), 'utf8'));

const FUNCTIONS_AND_KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'inf',
  'nan',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
]);

/**
 * The metric names a PromQL expression reads: what is left once strings, label matchers, ranges,
 * grouping clauses, function names, keywords and numbers are taken out. Any other identifier
 * (a misspelt metric included) comes back, so the caller can check it exists.
 */
function metricNames(expr: string): string[] {
  const scrubbed = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\w+/g, ' ')
    .replace(/\b[a-zA-Z_][a-zA-Z0-9_]*\s*\(/g, '(');
  const names = scrubbed.match(/\b[a-zA-Z_:][a-zA-Z0-9_:]*\b/g) ?? [];
  return [...new Set(names.filter((name) => !FUNCTIONS_AND_KEYWORDS.has(name.toLowerCase())))];
}

t.test('the expression reader finds metric names, and only those', async (t) => {
  t.same(
    metricNames(
      'sum by (le, route) (rate(foo_bucket{route="/a", status_code=~"5.."}[5m])) / on (x) bar > 0.5 and up',
    ),
    ['foo_bucket', 'bar', 'up'],
  );
  t.same(metricNames(`histogram_quantile(0.95, sum(rate(x_seconds_bucket[$__rate_interval])))`), [
    'x_seconds_bucket',
  ]);
});

t.test('alert rules, dashboard and compose name only metrics the service exposes', async (t) => {
  const { app } = await build(t);
  // Touch a route so labelled HTTP series exist; the families come from the `# TYPE` lines.
  await app.inject({ url: '/healthz' });
  const { types, samples } = await scrape(app);
  const exposed = new Set([...types.keys(), ...samples.map((sample) => sample.name)]);
  for (const [name, type] of types) {
    if (type === 'histogram') {
      for (const suffix of ['_bucket', '_sum', '_count']) exposed.add(`${name}${suffix}`);
    }
  }
  // Prometheus's own series about the scrape.
  exposed.add('up');

  const rules = await readYaml('alerts.yml');
  const alerts = rules.groups.flatMap((group: { rules: unknown[] }) => group.rules) as {
    alert: string;
    expr: string;
    for?: string;
    labels?: { severity?: string };
    annotations?: { summary?: string };
  }[];
  t.ok(alerts.length >= 10, `${alerts.length} alerts`);
  const covered = [
    'webhook_deliveries_total{result="bad_signature"}',
    'status_code="503"',
    'webhook_apply_lag_seconds',
    'sync_jobs_total{result="failed"}',
    'token_refreshes_total{result="revoked"}',
    'token_refreshes_total{result="failed"}',
    'event_deliveries_total{result="dead"}',
    'event_oldest_undelivered_age_seconds',
    'status="429"',
  ];
  for (const needle of covered) {
    t.ok(
      alerts.some((alert) => alert.expr.replace(/\s+/g, ' ').includes(needle)),
      `an alert on ${needle}`,
    );
  }
  for (const alert of alerts) {
    t.match(alert, { alert: /^[A-Z]\w+$/, labels: { severity: /^(critical|warning)$/ } });
    t.ok(alert.annotations?.summary, `${alert.alert} says what is wrong`);
    if (alert.for !== undefined) t.match(alert.for, /^\d+[smh]$/, `${alert.alert} for:`);
    const names = metricNames(alert.expr);
    t.ok(names.length > 0, `${alert.alert} reads a metric`);
    for (const name of names) t.ok(exposed.has(name), `${alert.alert}: ${name} is exposed`);
  }

  const dashboard = JSON.parse(
    await readFile(path.join(docker, 'grafana/dashboards/patreon-gateway.json'), 'utf8'),
  ) as {
    uid: string;
    panels: {
      id: number;
      type: string;
      title: string;
      datasource?: { uid: string };
      targets?: { expr: string }[];
    }[];
  };
  const datasources = await readYaml('grafana/provisioning/datasources/prometheus.yml');
  const datasourceUid = datasources.datasources[0].uid as string;
  const graphs = dashboard.panels.filter((panel) => panel.type !== 'row');
  t.ok(graphs.length >= 15, `${graphs.length} panels`);
  t.equal(new Set(dashboard.panels.map((panel) => panel.id)).size, dashboard.panels.length);
  const read = new Set<string>();
  for (const panel of graphs) {
    t.equal(panel.datasource?.uid, datasourceUid, `${panel.title}: the provisioned datasource`);
    t.ok(panel.targets?.length, `${panel.title} has queries`);
    for (const target of panel.targets ?? []) {
      const names = metricNames(target.expr);
      t.ok(names.length > 0, `${panel.title} reads a metric`);
      for (const name of names) {
        t.ok(exposed.has(name), `${panel.title}: ${name} is exposed`);
        read.add(name.replace(/_(bucket|sum|count)$/, ''));
      }
    }
  }
  const shown = [...types.keys()].filter((name) => name.startsWith('patreon_gateway_'));
  t.same(
    shown.filter((name) => !read.has(name)),
    [],
    'every patreon_gateway_ family is on the dashboard',
  );

  const compose = await readYaml('compose.yaml');
  t.match(Object.keys(compose.services).sort(), ['gateway', 'grafana', 'postgres', 'prometheus']);
  t.ok('METRICS_TOKEN' in compose.services.gateway.environment, 'the gateway takes METRICS_TOKEN');
  const mounts = (service: string) =>
    (compose.services[service].volumes as string[]).filter((v) => v.startsWith('./'));
  const prometheusMounts = mounts('prometheus');
  for (const [file, target] of [
    ['./prometheus.yml', '/etc/prometheus/prometheus.yml'],
    ['./alerts.yml', '/etc/prometheus/alerts.yml'],
  ]) {
    t.ok(
      prometheusMounts.some((v) => v.startsWith(`${file}:${target}`)),
      `${file} mounted`,
    );
  }
  for (const volume of [...prometheusMounts, ...mounts('grafana')]) {
    const source = volume.split(':')[0] as string;
    t.ok(existsSync(path.join(docker, source)), `${source} exists`);
  }
  const prometheus = await readYaml('prometheus.yml');
  t.same(prometheus.rule_files, ['alerts.yml'], 'the rules sit beside prometheus.yml');
  const job = prometheus.scrape_configs[0];
  t.equal(job.job_name, 'patreon-gateway', 'the job the alerts name');
  t.equal(job.metrics_path, '/metrics');
  t.same(job.static_configs[0].targets, ['gateway:3000']);
  t.ok(compose.services.prometheus.secrets.includes('metrics_token'));
  t.equal(job.authorization.credentials_file, '/run/secrets/metrics_token');
});

// promtool ships in Debian's `prometheus` package; where it is installed, it has the last word.
const promtool = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((file) => existsSync(file));
t.test(
  'promtool accepts the rules and the Prometheus configuration',
  { skip: promtool ? false : 'promtool is not installed (apt-get install prometheus)' },
  async (t) => {
    const run = (...args: string[]) =>
      execFileSync(promtool as string, args, { cwd: docker, encoding: 'utf8' });
    t.match(run('check', 'rules', 'alerts.yml'), /SUCCESS: \d+ rules found/);
    t.match(run('check', 'config', '--syntax-only', 'prometheus.yml'), /SUCCESS/);
  },
);
