import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../helpers/driverProcess';
import { helpEnvVars, helpFlags } from './driverCli';
import { alertRules, markdownAnchors } from './promql';

const read = (rel: string): string => readFileSync(path.join(repoRoot, rel), 'utf8');

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    if (statSync(p).isDirectory()) return n === 'gen' ? [] : tsFiles(p);
    return n.endsWith('.ts') ? [p] : [];
  });
}

/** Every reason word the driver can report: quoted CamelCase words on lines about a reason. */
function reportedReasons(): string[] {
  const out = new Set<string>();
  for (const f of tsFiles(path.join(repoRoot, 'src'))) {
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      if (!/reason/.test(line) || /^\s*(\/\/|\*)/.test(line)) continue;
      for (const m of line.matchAll(/'([A-Z][a-z]+[A-Z][A-Za-z]*)'/g)) out.add(m[1] as string);
    }
  }
  return [...out].sort();
}

describe('operator documentation (docs/)', () => {
  it('documents every flag and environment variable that csi-driver --help lists', () => {
    const guide = read('docs/operating-guide.md');
    assert.deepEqual([...helpFlags()].filter((f) => !guide.includes(`\`--${f}`)), []);
    assert.deepEqual([...helpEnvVars()].filter((e) => !guide.includes(`\`${e}\``)), []);
  });

  it('documents every metric the driver registers', () => {
    const source = read('src/metrics/driverMetrics.ts');
    const names = [...source.matchAll(/(?:name: |registerSeriesGauge\(\s*r,\s*)'(csi_driver_[a-z0-9_]+)'/g)].map((m) => m[1] as string);
    assert.ok(names.length >= 13, names.join(' '));
    const doc = read('docs/metrics.md');
    assert.deepEqual(names.filter((n) => !doc.includes(`\`${n}\``)), []);
  });

  it('tells what to do about every reason the driver reports', () => {
    const reasons = reportedReasons();
    assert.ok(reasons.includes('MountUnresponsive') && reasons.includes('StageFailed') && reasons.includes('ShareInaccessible'), reasons.join(' '));
    const headings = [...read('docs/troubleshooting.md').matchAll(/^###\s+(.+)$/gm)].map((m) => m[1] as string);
    assert.deepEqual(reasons.filter((r) => !headings.some((h) => new RegExp(`\\b${r}\\b`).test(h))), []);
  });

  it('lists every alert of the rules', () => {
    const doc = read('docs/metrics.md');
    assert.deepEqual(alertRules().map((r) => r.alert).filter((a) => !doc.includes(`\`${a}\``)), []);
  });

  it('has no broken relative links or anchors', () => {
    const pages = ['docs/README.md', 'docs/operating-guide.md', 'docs/health-monitoring.md', 'docs/metrics.md', 'docs/troubleshooting.md', 'deploy/README.md'];
    const broken: string[] = [];
    for (const page of pages) {
      for (const m of read(page).matchAll(/\]\(([^)\s]+)\)/g)) {
        const link = m[1] as string;
        if (/^[a-z]+:/.test(link)) continue;
        const [file, anchor] = link.split('#') as [string, string | undefined];
        const target = file === '' ? page : path.normalize(path.join(path.dirname(page), file));
        if (!existsSync(path.join(repoRoot, target))) broken.push(`${page}: ${link}`);
        else if (anchor && target.endsWith('.md') && !markdownAnchors(target).has(anchor)) broken.push(`${page}: ${link} (no such heading)`);
      }
    }
    assert.deepEqual(broken, []);
  });
});
