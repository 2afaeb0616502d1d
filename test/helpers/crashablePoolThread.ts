/**
 * The real pool thread, plus two ways for a test to break it from the outside: a request for
 * `/crash-the-thread` ends the thread, one for `/wedge-the-thread` makes it spin forever without
 * answering anything (as a thread stuck in a bug would).
 */
import { parentPort } from 'node:worker_threads';
import type { ThreadRequest } from '../../src/isolation/poolMessages';

parentPort?.on('message', (msg: ThreadRequest) => {
  if (msg.type !== 'run') return;
  if (msg.req.path === '/crash-the-thread') process.exit(3);
  if (msg.req.path === '/wedge-the-thread') for (;;);
});
// eslint-disable-next-line @typescript-eslint/no-require-imports
require('../../src/isolation/fsPoolThread');
