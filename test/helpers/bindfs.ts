import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
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
    freeze: () => daemon.kill('SIGSTOP'),
    thaw: () => daemon.kill('SIGCONT'),
    crash: () => daemon.kill('SIGKILL'),
    async dispose() {
      daemon.kill('SIGCONT');
      spawnSync('umount', ['-l', mountPoint], { timeout: 5000 });
      if (daemon.exitCode === null && daemon.signalCode === null) daemon.kill('SIGKILL');
    },
  };
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
