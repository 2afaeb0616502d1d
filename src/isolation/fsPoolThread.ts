/**
 * The worker thread that owns the helper processes of both lanes. Starting a process blocks the
 * calling thread for milliseconds (more while other processes start), so it happens here, never
 * on the driver's event loop; this thread only exchanges messages and never touches a mount.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { HelperProcessPool } from './helperProcessPool';
import type { HelperProcessPoolOptions } from './helperProcessPoolOptions';
import { serializePoolError } from './poolMessages';
import { runCommand } from '../mount/runCommand';
import type { Lane, PoolSnapshot, ThreadReply, ThreadRequest } from './poolMessages';
import { setThreadNice } from './cpuPriority';

/** What the owner passes to the thread: each lane's limits. */
export type PoolThreadConfig = Record<Lane, Omit<HelperProcessPoolOptions, 'spawn' | 'onEvent' | 'lane'>>;

// The driver's main thread may run above the ordinary priority; what this thread forks does not.
setThreadNice(0);

const port = parentPort;
if (!port) throw new Error('fsPoolThread must run in a worker thread');

const post = (msg: ThreadReply): void => port.postMessage(msg);
const config = workerData as PoolThreadConfig;
const snapshot = (): PoolSnapshot => ({ csi: lanes.csi.snapshot(), probe: lanes.probe.snapshot() });
const lane = (name: Lane): HelperProcessPool =>
  new HelperProcessPool({ ...config[name], lane: name, onEvent: (event) => post({ type: 'event', event, snapshot: snapshot() }) });
const lanes: Record<Lane, HelperProcessPool> = { csi: lane('csi'), probe: lane('probe') };
/** The lane of each request in flight, for cancels. */
const laneOf = new Map<number, Lane>();
/** Commands in flight, for cancels. */
const commands = new Map<number, AbortController>();

/** Runs a command here (forking from this thread, not the event loop) and answers in one message. */
function runCommandRequest(msg: Extract<ThreadRequest, { type: 'command' }>): void {
  const abort = new AbortController();
  commands.set(msg.id, abort);
  const opts = {
    timeoutMs: msg.timeoutMs,
    signal: abort.signal,
    ...(msg.env ? { env: msg.env } : {}),
    ...(msg.cwd ? { cwd: msg.cwd } : {}),
  };
  runCommand(msg.cmd, msg.args, opts)
    .then(
      (value) => post({ type: 'result', id: msg.id, ok: true, value, released: true, snapshot: snapshot() }),
      (err: unknown) =>
        post({ type: 'result', id: msg.id, ok: false, error: serializePoolError(err), released: true, snapshot: snapshot() }),
    )
    .finally(() => commands.delete(msg.id));
}

port.on('message', (msg: ThreadRequest) => {
  if (msg.type === 'close') {
    lanes.csi.close();
    lanes.probe.close();
    post({ type: 'closed', snapshot: snapshot() });
    return;
  }
  if (msg.type === 'cancel') {
    const l = laneOf.get(msg.id);
    if (l) lanes[l].cancel(msg.id);
    commands.get(msg.id)?.abort();
    // Said even when the helper is stuck in the kernel and cannot exit yet: this thread is not.
    post({ type: 'cancelled', id: msg.id });
    return;
  }
  if (msg.type === 'command') {
    runCommandRequest(msg);
    return;
  }
  laneOf.set(msg.id, msg.lane);
  const run = lanes[msg.lane].runTracked(
    msg.req,
    {
      timeoutMs: msg.timeoutMs,
      deadlineAt: msg.deadlineAt,
      onPartial: (answers) => post({ type: 'partial', id: msg.id, answers }),
    },
    msg.id,
  );
  // Usually the helper is free as soon as it answers: then one message carries both facts.
  let released = false;
  let settled = false;
  void run.gone.then(() => {
    released = true;
    laneOf.delete(msg.id);
    if (settled) post({ type: 'gone', id: msg.id, snapshot: snapshot() });
  });
  const settle = (reply: { ok: true; value: unknown } | { ok: false; error: ReturnType<typeof serializePoolError> }): void => {
    settled = true;
    post({ type: 'result', id: msg.id, ...reply, released, snapshot: snapshot() });
  };
  run.result.then(
    (value) => settle({ ok: true, value }),
    (err: unknown) => settle({ ok: false, error: serializePoolError(err) }),
  );
});

post({ type: 'hello' });
