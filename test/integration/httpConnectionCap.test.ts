import { strict as assert } from 'node:assert';
import { readdirSync } from 'node:fs';
import * as net from 'node:net';
import { stopAndClean } from '../helpers/cleanup';
import { startDriverProcess, type DriverProcess } from '../helpers/driverProcess';

const cap = 16;
const flood = 2_000;

function descriptors(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Opens connections in batches (the listen backlog is finite); half send a partial request and stall. */
async function openFlood(port: number, n: number): Promise<net.Socket[]> {
  const sockets: net.Socket[] = [];
  for (let k = 0; k < n; k += 200) {
    await Promise.all(
      Array.from({ length: Math.min(200, n - k) }, (_, i) => {
        const s = net.connect(port, '127.0.0.1');
        s.on('error', () => undefined);
        sockets.push(s);
        return new Promise<void>((resolve) => {
          s.once('connect', () => {
            if (i % 2 === 1) s.write('GET /healthz/live HTTP/1.1\r\nHost: 127.0.0.1\r\n');
            resolve();
          });
          s.once('close', () => resolve());
        });
      }),
    );
  }
  return sockets;
}

async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('HTTP connection cap of the running driver', function () {
  this.timeout(180_000);
  let d: DriverProcess;
  let sockets: net.Socket[] = [];
  before(async () => {
    d = await startDriverProcess(['--http-max-connections', String(cap)], undefined, { health: true, faults: true });
  });
  afterEach(() => {
    for (const s of sockets) s.destroy();
    sockets = [];
  });
  after(async () => stopAndClean(d));

  for (const server of ['health', 'fault'] as const) {
    it(`keeps the ${server} server's descriptors bounded and still answers after ${flood} idle and stalled connections`, async () => {
      const port = server === 'health' ? d.healthPort! : d.faultPort!;
      const pid = d.child.pid!;
      const before = descriptors(pid);
      sockets = await openFlood(port, flood);
      await until(`the driver holds at most ${cap} of them`, () => sockets.filter((s) => !s.closed).length <= cap);
      // Other descriptors may come and go (helpers, logs); the flood may not add more than the cap.
      assert.ok(descriptors(pid) <= before + cap + 8, `driver has ${descriptors(pid)} descriptors, ${before} before the flood`);
      const path = server === 'health' ? '/healthz/live' : '/faults';
      const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { connection: 'close' } });
      assert.equal(res.status, 200);
      assert.equal((await fetch(`http://127.0.0.1:${d.healthPort}/healthz/live`, { headers: { connection: 'close' } })).status, 200);
      await d.client.identity.Probe({}, 10_000);
      assert.equal(d.child.exitCode, null);
    });
  }
});
