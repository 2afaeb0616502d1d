import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../helpers/driverProcess';

interface Stage {
  from: string;
  name: string | undefined;
  lines: string[];
}

/** The Dockerfile's stages with their instructions (continuation lines joined, comments dropped). */
function stages(): { args: Record<string, string>; stages: Stage[] } {
  const text = readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const args: Record<string, string> = {};
  const out: Stage[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim().replace(/\s+/g, ' ');
    if (!line || line.startsWith('#')) continue;
    const from = /^FROM (\S+)(?: AS (\S+))?$/i.exec(line);
    if (from) {
      out.push({ from: (from[1] as string).replace(/\$\{(\w+)\}/g, (_, k: string) => args[k] ?? ''), name: from[2], lines: [] });
      continue;
    }
    const arg = /^ARG (\w+)=(\S+)$/.exec(line);
    if (arg && out.length === 0) args[arg[1] as string] = arg[2] as string;
    out[out.length - 1]?.lines.push(line);
  }
  return { args, stages: out };
}

const ignored = (): string[] =>
  readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

describe('Dockerfile', () => {
  const { stages: all } = stages();
  const build = all[0];
  const runtime = all[all.length - 1];

  it('builds in one stage and runs in another, both on a Node.js LTS slim image', () => {
    assert.equal(all.length, 2);
    for (const s of all) assert.match(s.from, /^node:(20|22|24)-[a-z]+-slim$/, s.from);
    assert.ok(build?.lines.some((l) => /^RUN npm ci\b/.test(l) && !l.includes('--omit=dev')), 'npm ci with dev dependencies in the build stage');
    assert.ok(build?.lines.includes('RUN npm run build'));
  });

  it('installs only production dependencies and the mount tools in the runtime stage', () => {
    const lines = runtime?.lines ?? [];
    assert.ok(lines.some((l) => /^RUN npm ci .*--omit=dev/.test(l)));
    const apt = lines.find((l) => l.includes('apt-get install')) ?? '';
    for (const p of ['nfs-common', 'mount', 'tar', 'tini']) assert.ok(apt.split(' ').includes(p), p);
    assert.ok(apt.includes('--no-install-recommends') && apt.includes('rm -rf /var/lib/apt/lists/*'));
  });

  it('copies bin/, dist/, proto/ and package*.json into one directory, where the driver finds its proto and version', () => {
    const copies = (runtime?.lines ?? []).filter((l) => l.startsWith('COPY '));
    const dests = copies.map((l) => l.split(' ').pop());
    assert.ok(copies.some((l) => l === 'COPY --from=build /src/dist/src ./dist/src'));
    assert.ok(copies.some((l) => l === 'COPY bin ./bin'));
    assert.ok(copies.some((l) => l === 'COPY proto ./proto'));
    assert.ok(copies.some((l) => l === 'COPY package.json package-lock.json ./'));
    assert.deepEqual(dests.filter((d) => !d?.startsWith('./')), []);
    assert.ok((runtime?.lines ?? []).includes('WORKDIR /app'));
  });

  it('runs the driver under tini as a non-root user, with labels', () => {
    const lines = runtime?.lines ?? [];
    assert.ok(lines.includes('USER 10001:10001'));
    assert.ok(lines.includes('ENTRYPOINT ["/usr/bin/tini", "--", "/app/bin/csi-driver"]'));
    const labels = lines.filter((l) => l.startsWith('LABEL ')).join(' ');
    for (const k of ['org.opencontainers.image.title', 'org.opencontainers.image.version', 'org.opencontainers.image.licenses']) assert.ok(labels.includes(k), k);
  });

  it('copies only files that exist and that .dockerignore lets through', () => {
    const ignore = ignored();
    for (const s of all) {
      for (const l of s.lines.filter((x) => x.startsWith('COPY ') && !x.includes('--from='))) {
        const sources = l.split(' ').slice(1, -1);
        for (const src of sources) {
          assert.ok(existsSync(path.join(repoRoot, src)), `${src} does not exist`);
          assert.ok(!ignore.includes(src) && !ignore.includes(src.split('/')[0] as string), `${src} is excluded by .dockerignore`);
        }
      }
    }
    for (const kept of ['src/gen', 'node_modules', 'dist', 'test']) assert.ok(ignore.includes(kept), `${kept} stays out of the build context`);
  });
});
