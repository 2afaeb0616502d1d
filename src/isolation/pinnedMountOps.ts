/**
 * Mount, unmount and inspect a staging or target path in a helper process, acting on the
 * directories a no-follow walk resolved (pinnedWalk.ts), never on a path string resolved again
 * later: mount and umount get the pinned directories as inherited descriptors (pinnedCommands.ts).
 * The commands run as children of this helper, in its process group, each with a deadline; the
 * pool kills the helper (and so them) at the request's deadline.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bindArgv, mountArgv, remountReadOnlyArgv, stepDeadlineMs, umountSteps } from '../mount/pinnedCommands';
import type { MountEntry } from '../mount/mountTable';
import {
  fdPath,
  identityOf,
  topMountOn,
  openChild,
  openPinned,
  openPinnedParent,
  pinnedIdentity,
  readMountInfo,
  sameIdentity,
  walkError,
  whereIs,
} from './pinnedWalk';
import type {
  PinnedCommandRun,
  PinnedMountResult,
  PinnedMountSource,
  PinnedPathState,
  PinnedRequest,
  PinnedUnmountResult,
} from './pinnedTypes';

function codeOf(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : 'EUNKNOWN';
}

/** Runs mount/umount with the pinned descriptors as its fds 3, 4, ...; the outcome goes to `log`. */
function runCommand(
  cmd: string,
  op: PinnedCommandRun['op'],
  argv: string[],
  fds: number[],
  timeoutMs: number,
  log: PinnedCommandRun[],
): void {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, {
    stdio: ['ignore', 'pipe', 'pipe', ...fds],
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    cwd: '/',
    encoding: 'utf8',
  });
  const ok = r.status === 0;
  log.push({ op, seconds: Number(process.hrtime.bigint() - start) / 1e9, ok });
  if (ok) return;
  const line = [cmd, ...argv].join(' ');
  if (r.error && codeOf(r.error) === 'ETIMEDOUT') throw walkError('ETIMEDOUT', `${line} did not finish within ${timeoutMs}ms`);
  if (r.error) throw r.error;
  throw walkError('EMOUNTCMD', `${line} exited ${r.status ?? r.signal}: ${(r.stderr || r.stdout).trim().slice(-300)}`);
}

function withFds<T>(fds: number[], fn: () => T): T {
  try {
    return fn();
  } finally {
    for (const fd of fds) fs.closeSync(fd);
  }
}

/** Is the walk's failure "nothing there" (a missing component)? */
const isAbsent = (err: unknown): boolean => codeOf(err) === 'ENOENT';

export function pinnedInspect(base: string, p: string): PinnedPathState {
  let parent: { parentFd: number; name: string };
  try {
    parent = openPinnedParent(base, p);
  } catch (err) {
    if (isAbsent(err)) return { kind: 'absent' };
    throw err;
  }
  return withFds([parent.parentFd], () => stateOn(parent.parentFd, parent.name, p));
}

function stateOn(parentFd: number, name: string, shown: string): PinnedPathState {
  const { exists, top } = topMountOn(parentFd, name, shown);
  if (top)
    return {
      kind: 'mount',
      mountId: top.mountId,
      fsType: top.fsType,
      source: top.source,
      rootDeleted: top.root.endsWith('//deleted'),
      ...identityOf(top),
    };
  return { kind: exists ? 'directory' : 'absent' };
}

/** Opens a bind source; a staging path must still hold the mount it was recorded with. */
function openSource(src: Extract<PinnedMountSource, { kind: 'bind' }>): number {
  const fd = openPinned(src.base, src.path);
  if (src.expect) {
    const id = pinnedIdentity(readMountInfo(), fd);
    if (id.mountPoint !== whereIs(fd) || !sameIdentity(id, src.expect)) {
      fs.closeSync(fd);
      throw walkError('EFOREIGN', `${src.path} no longer holds the mount this driver made there`);
    }
  }
  return fd;
}

/**
 * Mounts at `p`: parents made as needed, the mount point made or opened without following
 * symlinks, the source bound (or the filesystem mounted) onto that pinned directory. Refuses a
 * path that already is a mount point. Afterwards the new mount must sit exactly at `p`; if the
 * directory was moved meanwhile, the mount is taken off again and the call fails.
 */
export function pinnedMount(req: Extract<PinnedRequest, { op: 'pinnedMount' }>): PinnedMountResult {
  const { parentFd, name } = openPinnedParent(req.base, req.path, true);
  return withFds([parentFd], () => {
    // Nothing is mounted here now (and the caller holds the path's lock): whatever is, after the command, is its mount.
    if (topMountOn(parentFd, name, req.path).top) throw walkError('EBUSY', `${req.path} is already a mount point`);
    const targetFd = openChild(parentFd, name, req.path, true);
    const commands: PinnedCommandRun[] = [];
    withFds([targetFd], () => {
      if (req.source.kind === 'bind') {
        const sourceFd = openSource(req.source);
        withFds([sourceFd], () => runCommand('mount', 'bind', bindArgv(), [sourceFd, targetFd], req.commandTimeoutMs, commands));
        if (req.readOnly) {
          try {
            runCommand('mount', 'bind', remountReadOnlyArgv(name), [parentFd], req.commandTimeoutMs, commands);
          } catch (err) {
            // A read-only publish must never stay writable.
            undoMount(parentFd, name, req.commandTimeoutMs, commands);
            throw err;
          }
        }
      } else {
        runCommand(
          'mount',
          'mount',
          mountArgv(req.source.fsType, req.source.device, req.source.options),
          [targetFd],
          req.commandTimeoutMs,
          commands,
        );
      }
    });
    const { top } = topMountOn(parentFd, name, req.path);
    if (!top || path.join(whereIs(parentFd), name) !== req.path) {
      undoMount(parentFd, name, req.commandTimeoutMs, commands);
      throw walkError('EMOVED', `${req.path} was moved or replaced while it was mounted; the mount was taken off again`);
    }
    return { mountId: top.mountId, ...identityOf(top), commands };
  });
}

/** Takes off the mounts made just now at `<parentFd>/<name>` (wherever that directory is now). */
function undoMount(parentFd: number, name: string, timeoutMs: number, commands: PinnedCommandRun[]): void {
  for (let i = 0; i < 4; i++) {
    const { top } = topMountOn(parentFd, name, name);
    if (!top) return;
    unmountTop(parentFd, name, top, timeoutMs, commands);
  }
}

/**
 * One unmount of the top mount at `<parentFd>/<name>`, escalating to -f and -l (a mount known
 * dead: one forced, detaching step); stops once that mount is gone. Every step has at least
 * the full deadline (stepDeadlineMs): the forced and lazy ones do not wait on the server, so on
 * a starved CPU what takes time is starting the command, and that must not fail the teardown.
 * A failure names every step and what it did.
 */
function unmountTop(
  parentFd: number,
  name: string,
  top: MountEntry,
  timeoutMs: number,
  commands: PinnedCommandRun[],
  knownDead = false,
): void {
  const failures: string[] = [];
  let last: unknown;
  for (const step of umountSteps(name, knownDead)) {
    try {
      runCommand('umount', step.op, step.argv, [parentFd], stepDeadlineMs(step.op, timeoutMs), commands);
      return;
    } catch (err) {
      last = err;
      failures.push((err as Error).message);
      if (topMountOn(parentFd, name, name).top?.mountId !== top.mountId) return;
    }
  }
  if (failures.length < 2) throw last;
  throw walkError(codeOf(last), `every umount step failed: ${failures.join('; ')}`);
}

const mayUnmount = (req: Extract<PinnedRequest, { op: 'pinnedUnmount' }>, top: MountEntry): boolean =>
  req.expect ? sameIdentity(identityOf(top), req.expect) : req.anyMount;

/**
 * Unmounts the driver's mounts at `p` and removes the directory when asked and empty. Before
 * each umount the mount on the pinned parent's `name` is read from mountinfo and must be the
 * expected one; a mount point cannot be renamed or exchanged away, so that holds until the
 * umount. A foreign mount there fails the call (EFOREIGN) and is left alone.
 */
export function pinnedUnmount(req: Extract<PinnedRequest, { op: 'pinnedUnmount' }>): PinnedUnmountResult {
  let parent: { parentFd: number; name: string };
  try {
    parent = openPinnedParent(req.base, req.path);
  } catch (err) {
    if (isAbsent(err)) return { unmounted: 0, removed: true, commands: [] };
    throw err;
  }
  const { parentFd, name } = parent;
  return withFds([parentFd], () => {
    const commands: PinnedCommandRun[] = [];
    let unmounted = 0;
    for (let top = topMountOn(parentFd, name, req.path).top; top; top = topMountOn(parentFd, name, req.path).top) {
      if (!mayUnmount(req, top))
        throw walkError(
          'EFOREIGN',
          `${req.path} is the mount point of something this driver did not mount there (${top.fsType} ${top.source}); left alone`,
        );
      if (unmounted >= 16) throw walkError('EBUSY', `${req.path} is still mounted after ${unmounted} umounts`);
      unmountTop(parentFd, name, top, req.commandTimeoutMs, commands, req.knownDead === true);
      unmounted++;
    }
    return { unmounted, removed: req.removeDir ? removeIfEmpty(parentFd, name, req.path) : false, commands };
  });
}

/** rmdir in the pinned parent (never follows the name); a symlink or file there is not ours to remove. */
function removeIfEmpty(parentFd: number, name: string, shown: string): boolean {
  const st = fs.lstatSync(fdPath(parentFd, name), { throwIfNoEntry: false });
  if (!st) return true;
  if (!st.isDirectory())
    throw walkError(
      st.isSymbolicLink() ? 'ELOOP' : 'ENOTDIR',
      `${shown} is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a directory'}; left in place`,
    );
  try {
    fs.rmdirSync(fdPath(parentFd, name));
    return true;
  } catch (err) {
    const code = codeOf(err);
    if (code === 'ENOENT') return true;
    if (code === 'ENOTEMPTY' || code === 'EEXIST') return false;
    throw err;
  }
}

/** The helper's entry for the pinned requests. */
export function runPinned(req: PinnedRequest): unknown {
  switch (req.op) {
    case 'pinnedInspect':
      return pinnedInspect(req.base, req.path);
    case 'pinnedMount':
      return pinnedMount(req);
    case 'pinnedUnmount':
      return pinnedUnmount(req);
  }
}
