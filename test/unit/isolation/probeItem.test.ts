import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ProbeItem, TimedProbeResult } from '../../../src/isolation/fsOps';
import { probeFilePrefixOf, probeItem } from '../../../src/isolation/probeItem';
import { asyncProbeFs, syncProbeFs } from '../../../src/isolation/probeFs';
import { runProbeRound } from '../../../src/isolation/probeRunner';
import { writeFileAtomic } from '../../../src/isolation/writeFileAtomic';
import { freshMountIds, type MountIdLookup } from '../../../src/isolation/mountIdLookup';

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

  it('answers ENOTMOUNTED for a path no longer mounted, without writing into it', async () => {
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

describe('probeItem: the mount id the driver sends, and the table read only when it differs', () => {
  let root: string;
  let mounted: string;
  let realId: number;
  before(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'probe-mount-id-'));
    mkdirSync(path.join(root, 'src'));
    mounted = path.join(root, 'mnt');
    mkdirSync(mounted);
    execFileSync('mount', ['--bind', path.join(root, 'src'), mounted]);
    realId = freshMountIds().get(mounted)!;
    assert.ok(Number.isInteger(realId));
  });
  after(() => {
    execFileSync('umount', [mounted]);
    rmSync(root, { recursive: true, force: true });
  });

  const item = (extra: Partial<ProbeItem>): ProbeItem => ({ path: mounted, write: true, hiddenDir: '.h', requireMount: true, ...extra });
  /** A table that counts how often it is consulted. */
  const table = (ids: Record<string, number>): { lookup: MountIdLookup; asked: () => number } => {
    let n = 0;
    return { lookup: { get: (p) => (n++, ids[p]) }, asked: () => n };
  };

  it("does not read the table when the root is on the mount the driver's copy names", async () => {
    const t = table({});
    const r = await probeItem(item({ mountId: realId }), t.lookup, syncProbeFs);
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(t.asked(), 0);
  });

  it("reads the table when the driver's copy is older than a remount, and passes when the table agrees with the root", async () => {
    const t = table({ [mounted]: realId });
    const r = await probeItem(item({ mountId: realId + 100_000 }), t.lookup, asyncProbeFs);
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(t.asked(), 1);
  });

  it('answers EWRONGMOUNT when the table names another mount than the one the path leads to', async () => {
    const r = await probeItem(item({ mountId: realId + 100_000 }), table({ [mounted]: realId + 100_001 }).lookup, syncProbeFs);
    assert.equal(r.code, 'EWRONGMOUNT');
  });

  it('answers ENOTMOUNTED, writing nothing, when the table no longer has the mount', async () => {
    const r = await probeItem(item({ mountId: realId + 100_000, hiddenDir: '.h-unmounted' }), table({}).lookup, syncProbeFs);
    assert.equal(r.code, 'ENOTMOUNTED');
    assert.ok(!readdirSync(mounted).includes('.h-unmounted'), 'no probe directory was made');
  });

  it('reads procfs at most once per lookup object, and only when asked', () => {
    let reads = 0;
    const ids = freshMountIds(() => (reads++, readFileSync('/proc/self/mountinfo', 'utf8')));
    assert.equal(reads, 0);
    assert.equal(ids.get(mounted), realId);
    assert.equal(ids.get('/'), freshMountIds().get('/'));
    assert.equal(reads, 1);
  });
});
