import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ProbeItem, TimedProbeResult } from '../../../src/isolation/fsOps';
import { probeFilePrefixOf, probeItem } from '../../../src/isolation/probeItem';
import { asyncProbeFs, syncProbeFs } from '../../../src/isolation/probeFs';
import { runProbeRound } from '../../../src/isolation/probeRunner';
import { writeFileAtomic } from '../../../src/isolation/writeFileAtomic';

// In this process, on plain directories (never on storage that could hang): the probe's logic
// on both kinds of calls, and a round's two paths.
describe('probeItem and probe rounds in-process (plain directories)', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'probe-item-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const dir = (name: string): string => {
    const d = path.join(root, name);
    mkdirSync(d, { recursive: true });
    return d;
  };
  const item = (p: string, extra: Partial<ProbeItem> = {}): ProbeItem => ({ path: p, write: true, hiddenDir: '.h', ...extra });

  for (const [name, fsx] of [
    ['synchronous', syncProbeFs],
    ['asynchronous', asyncProbeFs],
  ] as const) {
    it(`checks a writable directory with ${name} calls and leaves no probe file`, async () => {
      const d = dir(name);
      const r = await probeItem(item(d), new Map(), fsx);
      assert.equal(r.ok, true, JSON.stringify(r));
      assert.ok(Number(r.statfs?.blocks) > 0);
      assert.deepEqual(readdirSync(path.join(d, '.h')), []);
    });

    it(`moves a symlinked probe directory aside with ${name} calls, never writing through it`, async () => {
      const d = dir(`tampered-${name}`);
      const outside = dir(`outside-${name}`);
      symlinkSync(outside, path.join(d, '.h'));
      const r = await probeItem(item(d), new Map(), fsx);
      assert.equal(r.code, 'ETAMPERED');
      assert.deepEqual(readdirSync(outside), []);
      assert.ok(readdirSync(d).some((n) => n.startsWith('.h.displaced-')));
    });

    it(`sweeps only its own mount point's leftovers with ${name} calls`, async () => {
      const d = dir(`sweep-${name}`);
      mkdirSync(path.join(d, '.h'), { mode: 0o700 });
      const other = `${probeFilePrefixOf('/elsewhere')}x`;
      writeFileSync(path.join(d, '.h', `${probeFilePrefixOf(d)}old`), 'x');
      writeFileSync(path.join(d, '.h', other), 'x');
      assert.equal((await probeItem(item(d, { sweep: true }), new Map(), fsx)).ok, true);
      assert.deepEqual(readdirSync(path.join(d, '.h')), [other]);
    });
  }

  it('answers ENOTMOUNTED for a path no longer mounted, before touching it', async () => {
    const d = dir('gone');
    const r = await probeItem(item(d, { requireMount: true }), new Map(), syncProbeFs);
    assert.equal(r.code, 'ENOTMOUNTED');
    assert.deepEqual(readdirSync(d), []);
  });

  it('answers a missing path with its errno at the first step', async () => {
    const r = await probeItem(item(path.join(root, 'none')), new Map(), asyncProbeFs);
    assert.equal(r.failedStep, 'stat');
    assert.equal(r.code, 'ENOENT');
  });

  it('answers every item of a round, calm ones on the one-at-a-time thread and the rest on the pool', async () => {
    const dirs = ['a', 'b', 'c', 'd'].map(dir);
    const items = [item(dirs[0]!), item(dirs[1]!, { sweep: true }), item(dirs[2]!, { delayMs: 5 }), item(dirs[3]!)];
    for (const stallMs of [undefined, 250]) {
      const got = new Map<number, TimedProbeResult>();
      await runProbeRound(items, (i, r) => got.set(i, r), stallMs);
      assert.deepEqual([...got.keys()].sort(), [0, 1, 2, 3]);
      for (const r of got.values()) assert.equal(r.ok, true, JSON.stringify(r));
    }
  });

  it('writes a file whole through a temp file and leaves no temp file', () => {
    const f = path.join(dir('atomic'), 'rec.json');
    writeFileAtomic(f, '{"a":1}');
    writeFileAtomic(f, '{"a":2}');
    assert.equal(readFileSync(f, 'utf8'), '{"a":2}');
    assert.deepEqual(readdirSync(path.dirname(f)), ['rec.json']);
  });
});
