import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../helpers/driverProcess';
import { readYaml } from './k8sObjects';

export const rulesFile = path.join(repoRoot, 'deploy', 'prometheus', 'nfs-health-csi-rules.yaml');
export const rulesTestFile = path.join(repoRoot, 'deploy', 'prometheus', 'tests', 'nfs-health-csi-rules.test.yaml');
export const scrapeConfigFile = path.join(repoRoot, 'deploy', 'prometheus', 'scrape-config.yaml');
export const dashboardFile = path.join(repoRoot, 'deploy', 'grafana', 'nfs-health-csi-dashboard.json');

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export function alertRules(): AlertRule[] {
  return readYaml<{ groups: Array<{ rules: AlertRule[] }> }>(rulesFile).groups.flatMap((g) => g.rules);
}

interface Panel {
  type: string;
  title: string;
  targets?: Array<{ expr: string }>;
  panels?: Panel[];
}

export interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query?: unknown }> };
}

export function dashboard(): Dashboard {
  return JSON.parse(readFileSync(dashboardFile, 'utf8')) as Dashboard;
}

export function dashboardPanels(): Panel[] {
  return dashboard().panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

/** Every query of the dashboard, Grafana variables replaced so that Prometheus can parse it. */
export function dashboardExprs(): Array<{ panel: string; expr: string }> {
  return dashboardPanels().flatMap((p) =>
    (p.targets ?? []).map((t) => ({
      panel: p.title,
      expr: t.expr.replace(/\$__rate_interval|\$__interval/g, '5m').replace(/\$\{?(job|instance)\}?/g, '.*'),
    })),
  );
}

const notMetrics = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan']);

/** The metric names a PromQL expression selects (functions, label lists, durations and strings left out). */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = [...stripped.matchAll(/(?<![\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])(?!\s*\()/g)].map((m) => m[1] as string);
  return [...new Set(names.filter((n) => !notMetrics.has(n.toLowerCase())))];
}

/** Metric families of a /metrics text: name -> type, from the # TYPE lines. */
export function metricFamilies(text: string): Map<string, string> {
  return new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1] as string, m[2] as string]));
}

/** Whether a series name is exposed: a family itself, or a histogram's _bucket/_sum/_count. */
export function exposes(families: Map<string, string>, name: string): boolean {
  if (families.has(name)) return true;
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  if (!m) return false;
  const t = families.get(m[1] as string);
  return t === 'histogram' || (t === 'summary' && m[2] !== 'bucket');
}

export function havePromtool(): boolean {
  return spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0;
}

export function promtool(args: string[], input?: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', args, { encoding: 'utf8', input, cwd: repoRoot, timeout: 60_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** GitHub-style heading anchors of a markdown file. */
export function markdownAnchors(file: string): Set<string> {
  const text = readFileSync(path.join(repoRoot, file), 'utf8');
  return new Set(
    [...text.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) =>
      (m[1] as string)
        .trim()
        .toLowerCase()
        .replace(/`/g, '')
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/\s/g, '-'),
    ),
  );
}
