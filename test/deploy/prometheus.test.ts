import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as yaml from 'js-yaml';
import { readYaml } from './k8sObjects';
import { injectCondition, mountsReport, startLiveDriver, waitFor, type LiveDriver } from './liveDriver';
import {
  alertRules,
  dashboard,
  dashboardExprs,
  dashboardPanels,
  exposes,
  havePromtool,
  markdownAnchors,
  metricFamilies,
  metricNames,
  promtool,
  rulesFile,
  rulesTestFile,
  scrapeConfigFile,
} from './promql';

/**
 * promtool's lint findings in prom-client's default process metrics (gauges named *_total),
 * which the driver registers as prom-client ships them. The driver's own metrics must lint clean.
 */
const promClientDefaultFindings = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

describe('Prometheus rules and Grafana dashboard (deploy/prometheus, deploy/grafana)', () => {
  describe('alert rules', () => {
    it('has the alerts an operator needs, each with a severity, a summary, a description and a runbook that exists in docs/', () => {
      const rules = alertRules();
      const names = rules.map((r) => r.alert);
      for (const a of ['NfsHealthCsiDriverDown', 'NfsHealthCsiVolumeUnhealthy', 'NfsHealthCsiProbesStuck', 'NfsHealthCsiShareUnreachable', 'NfsHealthCsiProbeLatencyHigh']) {
        assert.ok(names.includes(a), a);
      }
      for (const r of rules) {
        assert.match(r.labels?.severity ?? '', /^(critical|warning|info)$/, r.alert);
        assert.ok(r.annotations?.summary && r.annotations.description, r.alert);
        const [file, anchor] = (r.annotations?.runbook ?? '').split('#') as [string, string | undefined];
        assert.ok(anchor && markdownAnchors(file).has(anchor), `${r.alert}: runbook ${String(r.annotations?.runbook)} has no such heading`);
      }
    });

    it('has a unit test for every alert', () => {
      const tests = readYaml<{ tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }> }> }>(rulesTestFile).tests;
      const firing = new Set(tests.flatMap((t) => t.alert_rule_test ?? []).filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname));
      assert.deepEqual(alertRules().map((r) => r.alert).filter((a) => !firing.has(a)), []);
    });

    it('matches the job names of the example scrape configuration', () => {
      const jobs = readYaml<{ scrape_configs: Array<{ job_name: string }> }>(scrapeConfigFile).scrape_configs.map((j) => j.job_name);
      assert.deepEqual(jobs, ['nfs-health-csi-controller', 'nfs-health-csi-node']);
      for (const r of alertRules()) {
        for (const m of r.expr.matchAll(/job=~?"([^"]+)"/g)) {
          const re = new RegExp(`^(?:${m[1] as string})$`);
          assert.ok(jobs.some((j) => re.test(j)), `${r.alert}: job matcher ${m[1] as string} matches no scrape job`);
        }
      }
    });
  });

  describe('dashboard', () => {
    it('shows health per volume over time, a probe latency heatmap, errors by reason, and gRPC rate, errors and latency per method', () => {
      const panels = dashboardPanels();
      const has = (type: string, re: RegExp): boolean => panels.some((p) => p.type === type && (p.targets ?? []).some((t) => re.test(t.expr)));
      assert.ok(has('state-timeline', /csi_driver_volume_health_state/), 'health per volume over time');
      assert.ok(has('heatmap', /csi_driver_probe_duration_seconds_bucket/), 'probe latency heatmap');
      assert.ok(has('timeseries', /by \(reason\).*csi_driver_probe_errors_total/), 'errors by reason');
      assert.ok(has('timeseries', /by \(method\) \(rate\(csi_driver_grpc_requests_total/), 'gRPC rate per method');
      assert.ok(has('timeseries', /by \(method, code\).*code!="OK"/), 'gRPC errors per method');
      assert.ok(has('timeseries', /by \(method, le\).*csi_driver_grpc_request_duration_seconds_bucket/), 'gRPC latency per method');
      const d = dashboard();
      assert.equal(d.uid, 'nfs-health-csi');
      assert.deepEqual(d.templating.list.map((v) => v.name), ['datasource', 'job', 'instance']);
      for (const p of panels.filter((x) => x.type !== 'row')) assert.equal((p as { datasource?: { uid: string } }).datasource?.uid, '${datasource}', p.title);
    });

    it('lays its panels out on the 24-column grid without overlaps, with unique ids and titles', () => {
      type Placed = { id: number; title: string; gridPos: { x: number; y: number; w: number; h: number } };
      const panels = dashboardPanels() as unknown as Placed[];
      assert.equal(new Set(panels.map((p) => p.id)).size, panels.length, 'unique ids');
      assert.equal(new Set(panels.map((p) => p.title)).size, panels.length, 'unique titles');
      for (const [i, a] of panels.entries()) {
        assert.ok(a.gridPos.x >= 0 && a.gridPos.x + a.gridPos.w <= 24 && a.gridPos.h > 0, a.title);
        for (const b of panels.slice(i + 1)) {
          const overlap = a.gridPos.x < b.gridPos.x + b.gridPos.w && b.gridPos.x < a.gridPos.x + a.gridPos.w && a.gridPos.y < b.gridPos.y + b.gridPos.h && b.gridPos.y < a.gridPos.y + a.gridPos.h;
          assert.ok(!overlap, `${a.title} overlaps ${b.title}`);
        }
      }
    });
  });

  describe('with promtool', function () {
    before(function () {
      if (!havePromtool()) {
        console.log('    SKIPPED: promtool is not installed (scripts/install-deploy-tools.sh installs Debian prometheus)');
        this.skip();
      }
    });

    it('passes promtool check rules', () => {
      const r = promtool(['check', 'rules', rulesFile]);
      assert.equal(r.status, 0, r.output);
      assert.match(r.output, /SUCCESS: \d+ rules found/);
    });

    it('passes the alert unit tests (promtool test rules)', () => {
      const r = promtool(['test', 'rules', rulesTestFile]);
      assert.equal(r.status, 0, r.output);
      assert.match(r.output, /SUCCESS/);
    });

    it('parses every dashboard query as PromQL', () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'dashboard-promql-'));
      const file = path.join(dir, 'dashboard-queries.yaml');
      const rules = dashboardExprs().map((q, i) => ({ record: `dashboard:query_${i}`, expr: q.expr }));
      assert.ok(rules.length >= 20);
      writeFileSync(file, yaml.dump({ groups: [{ name: 'dashboard', rules }] }));
      let r: ReturnType<typeof promtool>;
      try {
        r = promtool(['check', 'rules', file]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      assert.equal(r.status, 0, r.output);
    });
  });

  describe('against a running driver', function () {
    let live: LiveDriver;
    let metrics: string;

    before(async function () {
      this.timeout(60_000);
      live = await startLiveDriver('pvc-metrics-1');
      await injectCondition(live, 'DEGRADED', 'InjectedSlowServer', 'set by the metrics test');
      // An answered NOT_FOUND gives the gRPC counter a non-OK code.
      await live.driver.client.controller.ControllerGetVolume({ volume_id: 'pvc-does-not-exist' }).catch(() => undefined);
      await waitFor('both mounts probed', async () => {
        const mounts = Object.values(await mountsReport(live));
        return mounts.length === 2 && mounts.every((m) => m.lastCheckTime !== null) ? true : undefined;
      });
      metrics = await (await fetch(`${live.healthUrl}/metrics`)).text();
    });

    after(async () => {
      await live?.close();
    });

    it('exposes every metric the dashboard and the alert rules query', () => {
      const families = metricFamilies(metrics);
      const queried = new Set([...dashboardExprs().map((q) => q.expr), ...alertRules().map((r) => r.expr)].flatMap(metricNames));
      for (const v of dashboard().templating.list) {
        const m = /label_values\(([a-zA-Z_:][\w:]*)/.exec(JSON.stringify(v.query ?? ''));
        if (m) queried.add(m[1] as string);
      }
      // `up` is made by Prometheus for every target, not by the driver.
      queried.delete('up');
      assert.ok(queried.size >= 12, [...queried].join(' '));
      assert.deepEqual([...queried].filter((n) => !exposes(families, n)), []);
    });

    it('reports the injected condition in the per-volume health and injected-fault gauges the alerts use', () => {
      const id = live.volumeId;
      assert.match(metrics, new RegExp(`^csi_driver_volume_health_state\\{volume_id="${id}",kind="publish",state="degraded"\\} 1$`, 'm'));
      assert.match(metrics, new RegExp(`^csi_driver_volume_injected_fault\\{volume_id="${id}",reason="InjectedSlowServer"\\} 1$`, 'm'));
      assert.match(metrics, /^csi_driver_monitored_mounts 2$/m);
      assert.match(metrics, /^csi_driver_healthy 0$/m);
      assert.match(metrics, /^csi_driver_grpc_requests_total\{method="ControllerGetVolume",code="NOT_FOUND"\} 1$/m);
    });

    it('passes promtool check metrics, apart from prom-client default metrics', function () {
      if (!havePromtool()) this.skip();
      const r = promtool(['check', 'metrics'], metrics);
      const findings = r.output.split('\n').filter((l) => l.trim() !== '');
      const ours = findings.filter((l) => !promClientDefaultFindings.some((n) => l.startsWith(`${n} `)));
      assert.deepEqual(ours, [], r.output);
      assert.ok(r.status === 0 || r.status === 3, `promtool exited ${String(r.status)}: ${r.output}`);
      assert.equal(readFileSync(rulesFile, 'utf8').includes('nodejs_active_'), false, 'the rules do not depend on the linted default metrics');
    });
  });
});
