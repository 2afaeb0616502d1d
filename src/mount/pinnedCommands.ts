/**
 * The argv of mount and umount run on pinned directories. Each directory is passed to the
 * command as an inherited file descriptor and named by its magic link `/proc/self/fd/N`, which
 * the kernel resolves to the very directory the descriptor holds; `-c` (--no-canonicalize)
 * makes util-linux hand that name to mount(2)/umount(2) unchanged, instead of resolving it to a
 * path string that a concurrent rename could redirect.
 */

/** The descriptor number a child sees for the n-th extra stdio entry (0 -> 3). */
export const childFd = (n: number): number => 3 + n;

/** Binds the directory at child fd 3 onto the directory at child fd 4. */
export function bindArgv(): string[] {
  return ['-c', '--bind', `/proc/self/fd/${childFd(0)}`, `/proc/self/fd/${childFd(1)}`];
}

/**
 * Makes the bind mount at `<fd 3>/<name>` read-only. The name, looked up in the pinned parent,
 * crosses into the new mount (the magic link of the mount point itself would name the
 * directory under it).
 */
export function remountReadOnlyArgv(name: string): string[] {
  return ['-c', '-o', 'remount,bind,ro', `/proc/self/fd/${childFd(0)}/${name}`];
}

/** Mounts a filesystem onto the directory at child fd 3. */
export function mountArgv(fsType: string, device: string, options: string[]): string[] {
  return ['-c', '-t', fsType, ...(options.length > 0 ? ['-o', options.join(',')] : []), device, `/proc/self/fd/${childFd(0)}`];
}

/** An unmount step: what it is called in metrics and its arguments to umount. */
export type UmountStep = { op: 'umount' | 'umount_force' | 'umount_lazy' | 'umount_dead'; argv: string[] };

/**
 * The escalation of one unmount of `<fd 3>/<name>`: plain, forced, lazy. The forced and lazy
 * steps are for a mount whose server is gone: `-i` makes umount call umount2 itself rather
 * than start the filesystem's helper (umount.nfs), one process less per step when CPU is short
 * and nothing the helper does (mtab, a v3 UMNT call to the dead server) helps there.
 *
 * A mount the monitor already knows dead gets one step, `-f -l` (MNT_FORCE | MNT_DETACH): the
 * filesystem aborts its requests in flight, as with -f, and the mount is detached whatever
 * still holds it, as with -l. A normal umount would only wait out its deadline there, and a
 * separate -f then -l would start two processes where one does.
 */
export function umountSteps(name: string, knownDead = false): UmountStep[] {
  const at = `/proc/self/fd/${childFd(0)}/${name}`;
  if (knownDead) return [{ op: 'umount_dead', argv: ['-c', '-i', '-f', '-l', at] }];
  return [
    { op: 'umount', argv: ['-c', at] },
    { op: 'umount_force', argv: ['-c', '-i', '-f', at] },
    { op: 'umount_lazy', argv: ['-c', '-i', '-l', at] },
  ];
}

/**
 * The deadline of one umount step. The single step of a mount known dead is the only one it
 * gets, and it never waits on the server: twice the deadline, so that on a starved machine,
 * where only starting the command is slow, the teardown does not fail.
 */
export function stepDeadlineMs(op: string, timeoutMs: number): number {
  return op === 'umount_dead' ? 2 * timeoutMs : timeoutMs;
}
