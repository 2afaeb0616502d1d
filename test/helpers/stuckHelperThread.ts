/**
 * A pool thread whose helpers get stuck in the kernel: a request for `/stuck` is answered with a
 * timeout at its deadline and its helper never exits (no `gone`), as a helper killed while
 * blocked on a hung mount; the thread itself stays alive and acknowledges cancels. Any other
 * request answers at once.
 */
import { parentPort } from 'node:worker_threads';
import { emptyLane, type ThreadReply, type ThreadRequest } from '../../src/isolation/poolMessages';

const port = parentPort;
const snapshot = { csi: emptyLane, probe: emptyLane };
const post = (m: ThreadReply): void => port?.postMessage(m);

port?.on('message', (msg: ThreadRequest) => {
  if (msg.type === 'cancel') post({ type: 'cancelled', id: msg.id });
  if (msg.type !== 'run') return;
  if (msg.req.path !== '/stuck') {
    post({ type: 'result', id: msg.id, ok: true, value: true, released: true, snapshot });
    return;
  }
  setTimeout(() => {
    const error = { name: 'IsolationTimeoutError', message: 'timed out', op: msg.req.op, path: msg.req.path, timeoutMs: msg.timeoutMs };
    post({ type: 'result', id: msg.id, ok: false, error, released: false, snapshot });
  }, msg.timeoutMs);
});
post({ type: 'hello' });
