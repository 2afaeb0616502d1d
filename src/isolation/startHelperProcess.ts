import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

/** Starts one helper process; tests may pass their own. */
export type HelperSpawner = () => ChildProcess;

/** One helper process and what is known of its life. */
export interface HelperProcess {
  child: ChildProcess;
  exited: Promise<void>;
  /** True once the helper said it is ready; false if it exited or did not start in time. */
  ready: Promise<boolean>;
  /** When it last went idle (ms since the epoch). */
  idleSince: number;
  /** When it was spawned (ms since the epoch). */
  startedAt: number;
  /** Set once `ready` resolved true. */
  isReady: boolean;
}

const defaultHelperScript = path.join(__dirname, 'fsHelperMain.js');

/** Forks fsHelperMain with `threads` libuv threads, from /, in its own process group. */
export function forkHelperSpawner(threads: number): HelperSpawner {
  return () =>
    fork(defaultHelperScript, [], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      execArgv: ['--max-old-space-size=48'],
      env: { ...process.env, UV_THREADPOOL_SIZE: String(threads) },
      // A helper runs from / so that its cwd never pins a mount that we later unmount.
      cwd: '/',
      // Its own process group: a kill at the deadline takes whatever it started (mount, tar) too.
      detached: true,
    });
}

/** Spawns a helper and watches for its ready message and its exit. */
export function startHelperProcess(spawn: HelperSpawner): HelperProcess {
  const child = spawn();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const now = Date.now();
  const helper: HelperProcess = { child, exited, ready: Promise.resolve(false), idleSince: now, startedAt: now, isReady: false };
  helper.ready = new Promise<boolean>((resolve) => {
    const onReady = (msg: { ready?: boolean }): void => {
      if (!msg || msg.ready !== true) return;
      child.off('message', onReady);
      helper.isReady = true;
      resolve(true);
    };
    child.on('message', onReady);
    void exited.then(() => resolve(false));
  });
  return helper;
}
