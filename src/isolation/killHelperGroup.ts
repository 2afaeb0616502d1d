import type { ChildProcess } from 'node:child_process';

/** Kills a helper and everything in its process group. */
export function killHelperGroup(child: ChildProcess): void {
  try {
    if (child.pid === undefined) throw new Error('no pid');
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // Not a group leader (a test's own spawner) or already gone.
    child.kill('SIGKILL');
  }
}
