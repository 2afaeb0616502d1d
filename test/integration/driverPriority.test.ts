import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import { stopAndClean } from '../helpers/cleanup';
import { startDriverProcess, type DriverProcess } from '../helpers/driverProcess';
import { createAndPublish } from '../helpers/publish';
import { driverPriorityBoost } from '../../src/isolation/cpuPriority';

/** pid's nice value and parent, from /proc/<pid>/stat; undefined once it is gone. */
function statOf(pid: number): { nice: number; ppid: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), nice: Number(f[16]) };
  } catch {
    return undefined;
  }
}

describe('CPU priority of a running driver', function () {
  this.timeout(120_000);
  let d: DriverProcess;
  before(async () => {
    d = await startDriverProcess([], undefined, { ownSession: true });
  });
  after(async () => stopAndClean(d));

  it('runs its event loop above its helpers: main thread boosted, helpers at the ordinary priority', async () => {
    const base = os.getPriority();
    await createAndPublish(d.client, d.dirs.root, d.dirs.share, 'pvc-priority');
    const pid = d.child.pid!;
    assert.equal(statOf(pid)?.nice, base - driverPriorityBoost, 'the main thread');
    const helpers = readdirSync('/proc')
      .filter((n) => /^\d+$/.test(n))
      .map(Number)
      .filter((p) => statOf(p)?.ppid === pid);
    assert.ok(helpers.length > 0, 'the publish left helpers running');
    for (const h of helpers) {
      const st = statOf(h);
      if (st) assert.equal(st.nice, base, `helper ${h}`);
    }
  });
});
