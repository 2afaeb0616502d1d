/**
 * The worker thread that owns the helper processes. Starting a process blocks the calling
 * thread for milliseconds (more while other processes start), so it happens here, never on the
 * driver's event loop; this thread only exchanges messages and never touches a mount itself.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { HelperProcessPool, type HelperProcessPoolOptions } from './helperProcessPool';
import { serializePoolError } from './poolMessages';
import type { ThreadReply, ThreadRequest } from './poolMessages';

const port = parentPort;
if (!port) throw new Error('fsPoolThread must run in a worker thread');

const post = (msg: ThreadReply): void => port.postMessage(msg);
const pool = new HelperProcessPool({
  ...(workerData as HelperProcessPoolOptions),
  onEvent: (event) => post({ type: 'event', event, snapshot: pool.snapshot() }),
});

port.on('message', (msg: ThreadRequest) => {
  if (msg.type === 'close') {
    pool.close();
    post({ type: 'closed', snapshot: pool.snapshot() });
    return;
  }
  const run = pool.runTracked(msg.req, msg.timeoutMs);
  // Usually the helper is free as soon as it answers: then one message carries both facts.
  let released = false;
  let settled = false;
  void run.gone.then(() => {
    released = true;
    if (settled) post({ type: 'gone', id: msg.id, snapshot: pool.snapshot() });
  });
  const settle = (reply: { ok: true; value: unknown } | { ok: false; error: ReturnType<typeof serializePoolError> }): void => {
    settled = true;
    post({ type: 'result', id: msg.id, ...reply, released, snapshot: pool.snapshot() });
  };
  run.result.then(
    (value) => settle({ ok: true, value }),
    (err: unknown) => settle({ ok: false, error: serializePoolError(err) }),
  );
});
