import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { heapSnapshotNodeArgs, liveHeapOf, takeHeapSnapshot, topGrowth } from './heapSnapshot';
import { heapBoundBytes, judgeHeap } from './leakVerdicts';

/** A snapshot in V8's format with the given nodes: [type index, name index, self size]. */
function snapshot(nodes: Array<[number, number, number]>): string {
  return JSON.stringify({
    snapshot: {
      meta: { node_fields: ['type', 'name', 'id', 'self_size', 'edge_count'], node_types: [['hidden', 'object', 'closure', 'string']] },
    },
    nodes: nodes.flatMap(([type, name, size], i) => [type, name, i + 1, size, 0]),
    strings: ['', 'Map', 'Request', 'onData'],
  });
}

describe('soak heap verdict', () => {
  it('sums self sizes, by constructor for objects and closures and by type otherwise', () => {
    const h = liveHeapOf(
      snapshot([
        [1, 1, 100],
        [1, 2, 40],
        [1, 2, 60],
        [2, 3, 30],
        [3, 0, 7],
      ]),
    );
    assert.equal(h.bytes, 237);
    assert.equal(h.objects, 5);
    assert.deepEqual(Object.fromEntries(h.byName), { 'object:Map': 100, 'object:Request': 100, 'closure:onData': 30, string: 7 });
  });

  it('passes a heap that grew within the bound and fails one past it, naming what grew', () => {
    const before = liveHeapOf(snapshot([[1, 2, 1_000_000]]));
    const flat = liveHeapOf(snapshot([[1, 2, 1_000_000 + heapBoundBytes]]));
    assert.deepEqual(judgeHeap({ before, after: flat, opsBetween: 500 }).problems, []);
    const leaked = liveHeapOf(
      snapshot([
        [1, 2, 1_000_001 + heapBoundBytes],
        [1, 1, 5],
      ]),
    );
    const v = judgeHeap({ before, after: leaked, opsBetween: 500 });
    assert.equal(v.problems.length, 1);
    assert.match(v.problems[0] ?? '', /over 500 operations .* grew most: object:Request \+6144 KB, object:Map \+0 KB/);
    assert.deepEqual(topGrowth(before, leaked, 1), [{ name: 'object:Request', bytes: heapBoundBytes + 1 }]);
  });

  it('reads a real snapshot of a node process that holds 20 MB more after it allocated them', async function () {
    this.timeout(120_000);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'heap-snapshot-'));
    const script =
      'const kept = []; process.on("SIGUSR1", () => { for (let i = 0; i < 20; i++) kept.push(new Array(131072).fill(i)); console.log("grew"); }); setInterval(() => {}, 1000); console.log("ready");';
    const child = spawn(process.execPath, [...heapSnapshotNodeArgs(dir), '-e', script], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const said = async (word: string): Promise<void> => {
      while (!out.includes(word)) await new Promise((r) => setTimeout(r, 20));
    };
    try {
      await said('ready');
      const before = await takeHeapSnapshot(child.pid!, dir);
      child.kill('SIGUSR1');
      await said('grew');
      const after = await takeHeapSnapshot(child.pid!, dir);
      // 20 arrays of 131,072 small integers: 1 MiB of elements each.
      const grew = after.bytes - before.bytes;
      assert.ok(grew > 20 * 1024 * 1024 && grew < 24 * 1024 * 1024, `the live heap grew by ${grew} bytes`);
      assert.ok(judgeHeap({ before, after, opsBetween: 1 }).problems.length === 1);
    } finally {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
