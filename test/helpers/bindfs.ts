import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { readMountTable, findMount } from '../../src/mount/mountTable';

/** A bindfs FUSE mount whose daemon we hold: SIGSTOP hangs the mount like a frozen NFS server, SIGKILL breaks it (ENOTCONN). */
export interface BindfsMount {
  daemon: ChildProcess;
  source: string;
  mountPoint: string;
  freeze(): void;
  thaw(): void;
  crash(): void;
  /** Unmounts (lazily, it may be dead) and ends the daemon. */
  dispose(): Promise<void>;
}

export async function mountBindfs(source: string, mountPoint: string): Promise<BindfsMount> {
  mkdirSync(source, { recursive: true });
  mkdirSync(mountPoint, { recursive: true });
  // -f keeps the daemon in the foreground, so its pid is the child's.
  const daemon = spawn('bindfs', ['-f', '--no-allow-other', source, mountPoint], { stdio: 'ignore' });
  const deadline = Date.now() + 10_000;
  while (!findMount(await readMountTable(), mountPoint)) {
    if (daemon.exitCode !== null) throw new Error(`bindfs exited with ${daemon.exitCode}`);
    if (Date.now() > deadline) throw new Error('bindfs did not mount in time');
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    daemon,
    source,
    mountPoint,
    freeze: () => stopAndWait(daemon),
    thaw: () => daemon.kill('SIGCONT'),
    crash: () => daemon.kill('SIGKILL'),
    async dispose() {
      daemon.kill('SIGCONT');
      spawnSync('umount', ['-l', mountPoint], { timeout: 5000 });
      if (daemon.exitCode === null && daemon.signalCode === null) daemon.kill('SIGKILL');
    },
  };
}

/** The state letter of a task (/proc/<pid>/task/<tid>/stat): T is stopped, Z a zombie. */
function taskState(statFile: string): string {
  const st = readFileSync(statFile, 'utf8');
  return st.charAt(st.lastIndexOf(')') + 2);
}

/**
 * SIGSTOP, then waits (milliseconds; at most 5 s on a loaded machine) until every thread of the
 * daemon has stopped, so that a request sent after freeze() hangs. A daemon that is already gone
 * cannot be frozen: that is said at once, not found out later from a mount that fails fast.
 */
function stopAndWait(daemon: ChildProcess): void {
  const gone = (): boolean => {
    try {
      return taskState(`/proc/${daemon.pid}/stat`) === 'Z';
    } catch {
      return true;
    }
  };
  if (daemon.pid === undefined || daemon.exitCode !== null || daemon.signalCode !== null || gone())
    throw new Error(`the bindfs daemon is gone (${daemon.exitCode ?? daemon.signalCode ?? 'no pid'}): it cannot be frozen`);
  daemon.kill('SIGSTOP');
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + 5000;
  for (;;) {
    const tasks = readdirSync(`/proc/${daemon.pid}/task`);
    if (tasks.every((t) => taskState(`/proc/${daemon.pid}/task/${t}/stat`) === 'T')) return;
    if (Date.now() > deadline) throw new Error('the bindfs daemon did not stop within 5 s of SIGSTOP');
    Atomics.wait(pause, 0, 0, 5);
  }
}

/** Polls `fn` until it returns a truthy value or the time is up (a bound, not a measurement). */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs: number, stepMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** GET a JSON endpoint of the health port. */
export async function getJson(port: number, p: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`http://127.0.0.1:${port}${p}`);
  return { status: res.status, body: await res.json() };
}
