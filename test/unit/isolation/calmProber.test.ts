import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CalmProber } from '../../../src/isolation/calmProbes';
import type { ProbeItem, TimedProbeResult } from '../../../src/isolation/fsOps';
import { eventually } from '../../helpers/fakeHelper';

const gatedWorker = path.join(__dirname, '../../helpers/gatedCalmWorker.js');

describe('CalmProber: a slow thread never holds a probe round', () => {
  let root: string;
  let gates: string;
  let prober: CalmProber;
  const savedGateDir = process.env.CALM_GATE_DIR;
  before(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'calm-prober-'));
    gates = path.join(root, 'gates');
    mkdirSync(gates);
    process.env.CALM_GATE_DIR = gates;
    prober = new CalmProber(gatedWorker);
  });
  after(() => {
    // Open both gates so the thread can end with the process.
    writeFileSync(path.join(gates, 'start'), '');
    writeFileSync(path.join(gates, 'round'), '');
    if (savedGateDir === undefined) delete process.env.CALM_GATE_DIR;
    else process.env.CALM_GATE_DIR = savedGateDir;
    rmSync(root, { recursive: true, force: true });
  });

  const items = (n: number, tag: string): ProbeItem[] =>
    Array.from({ length: n }, (_, i) => {
      const d = path.join(root, `${tag}-${i}`);
      mkdirSync(d, { recursive: true });
      return { path: d, write: true, hiddenDir: '.csi-health' };
    });

  it('takes no round until its thread has started, however long that takes', async () => {
    assert.equal(prober.canTakeRound(), false, 'no thread before prepare()');
    prober.prepare();
    assert.equal(prober.canTakeRound(), false, 'the thread is starting; it is not ready yet');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(prober.canTakeRound(), false, 'still loading: rounds go to the thread pool meanwhile');
    writeFileSync(path.join(gates, 'start'), '');
    await eventually(() => prober.canTakeRound(), 'ready once loaded');
  });

  it('ends a round at the stall when the thread started none of its mounts, without waiting for the thread', async () => {
    const round = items(3, 'stalled');
    const answers = new Map<number, TimedProbeResult>();
    const run = prober.run(round, 50, (position, r) => answers.set(position, r));
    assert.deepEqual(await run.handedBack, [0, 1, 2], 'everything goes back to the caller');
    await run.finished;
    assert.equal(answers.size, 0, 'the blocked thread answered nothing');
    assert.equal(prober.canTakeRound(), false, 'the thread is still busy with that round');
    writeFileSync(path.join(gates, 'round'), '');
    await eventually(() => prober.canTakeRound(), 'free again once the thread gets to the round and finds nothing left');
    assert.equal(answers.size, 0, 'and it probed none of the mounts handed back');
  });

  it('answers a whole round on the thread when it does not stall', async () => {
    const round = items(4, 'calm');
    const answers = new Map<number, TimedProbeResult>();
    const run = prober.run(round, 10_000, (position, r) => answers.set(position, r));
    assert.deepEqual(await run.handedBack, []);
    await run.finished;
    assert.deepEqual([...answers.keys()].sort(), [0, 1, 2, 3]);
    for (const [i, r] of answers) {
      assert.equal(r.ok, true, JSON.stringify(r));
      assert.deepEqual(readdirSync(path.join(round[i]!.path, '.csi-health')), [], 'probe file removed');
    }
  });

  it('hands over what the thread answered before it went quiet, and the rest goes back', async () => {
    const round = items(5, 'quiet');
    // The thread sits on the third mount for 1.5 s: quiet, as on a hung mount.
    round[2] = { ...round[2]!, delayMs: 1500 };
    const answers = new Map<number, TimedProbeResult>();
    const run = prober.run(round, 200, (position, r) => answers.set(position, r));
    assert.deepEqual(await run.handedBack, [3, 4], 'what it had not claimed goes back');
    assert.deepEqual([...answers.keys()].sort(), [0, 1], 'the answers written before the stall are not lost');
    assert.ok(answers.get(0)!.ok && answers.get(0)!.statfs, JSON.stringify(answers.get(0)));
    await run.finished;
    assert.deepEqual([...answers.keys()].sort(), [0, 1, 2], 'the round ends once the mount it sat on is answered');
    assert.ok(answers.get(2)!.elapsedMs >= 1400, `it took its time: ${answers.get(2)!.elapsedMs} ms`);
    await eventually(() => prober.canTakeRound(), 'free again for the next round');
    assert.equal(answers.size, 3, 'and it probed none of the mounts handed back');
  });

  it('sends a failing probe as a message, with its step and code', async () => {
    const round = items(2, 'failing');
    round[1] = { path: path.join(root, 'does-not-exist'), write: true, hiddenDir: '.csi-health' };
    const answers = new Map<number, TimedProbeResult>();
    const run = prober.run(round, 10_000, (position, r) => answers.set(position, r));
    assert.deepEqual(await run.handedBack, []);
    await run.finished;
    assert.equal(answers.get(0)!.ok, true);
    assert.equal(answers.get(1)!.ok, false);
    assert.equal(answers.get(1)!.code, 'ENOENT');
    assert.equal(answers.get(1)!.failedStep, 'stat');
  });
  // Last: it breaks the shared thread.
  it('gives back what the thread had started when it breaks after the rest was handed back', async () => {
    const round = items(4, 'broken');
    round[1] = { ...round[1]!, delayMs: 5000 };
    const answers = new Map<number, TimedProbeResult>();
    const run = prober.run(round, 200, (position, r) => answers.set(position, r));
    assert.deepEqual(await run.handedBack, [2, 3]);
    // The thread dies while it sits on the second mount.
    await (prober as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    assert.deepEqual(await run.finished, [1], 'the mount it had started comes back to the caller');
    assert.deepEqual([...answers.keys()], [0], 'what it answered before stays answered');
    assert.equal(prober.canTakeRound(), false, 'a broken thread takes no more rounds');
  });
});
