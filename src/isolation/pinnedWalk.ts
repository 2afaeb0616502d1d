/**
 * openat() for Node (which has none): a path is resolved one component at a time, each opened
 * through the magic link of its parent's descriptor (`/proc/self/fd/<parent>/<name>`) with
 * O_NOFOLLOW | O_DIRECTORY, so a symlink anywhere below the trusted base fails the walk instead
 * of leading it elsewhere, and what was resolved stays pinned by its descriptor whatever is
 * renamed afterwards. Runs in a helper process (synchronous calls; the path may be a hung mount).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseMountInfo, type MountEntry } from '../mount/mountTable';
import type { MountIdentity } from './pinnedTypes';
import { O_PATH } from './pinnedHandles';

const dirFlags = O_PATH | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW;

/** A walk failure with an errno-like code, for the pool to carry back. */
export function walkError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

function codeOf(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : 'EUNKNOWN';
}

export const fdPath = (fd: number, name?: string): string => (name === undefined ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${name}`);

/** The components of `p` below `base`; both absolute and clean, `p` strictly inside. */
export function componentsBelow(base: string, p: string): string[] {
  const rel = path.relative(base, p);
  const parts = rel.split('/');
  if (
    !path.isAbsolute(base) ||
    !path.isAbsolute(p) ||
    path.normalize(p) !== p ||
    rel === '' ||
    path.isAbsolute(rel) ||
    parts.some((c) => c === '' || c === '.' || c === '..')
  ) {
    throw walkError('EINVAL', `${p} is not a clean path below ${base}`);
  }
  return parts;
}

/**
 * Opens `name` in the pinned directory `parentFd` without following it. With `create`, a
 * missing directory is made there first. A symlink or a file gives ELOOP or ENOTDIR naming `shown`.
 */
export function openChild(parentFd: number, name: string, shown: string, create = false): number {
  for (let attempt = 0; ; attempt++) {
    try {
      return fs.openSync(fdPath(parentFd, name), dirFlags);
    } catch (err) {
      const code = codeOf(err);
      if (code === 'ENOENT' && create && attempt === 0) {
        try {
          fs.mkdirSync(fdPath(parentFd, name), 0o750);
        } catch (mkErr) {
          if (codeOf(mkErr) !== 'EEXIST') throw mkErr;
        }
        continue;
      }
      if (code === 'ENOTDIR' || code === 'ELOOP') {
        const st = fs.lstatSync(fdPath(parentFd, name), { throwIfNoEntry: false });
        if (st?.isSymbolicLink())
          throw walkError('ELOOP', `${shown} is a symbolic link; the driver does not follow links in staging or target paths`);
        throw walkError('ENOTDIR', `${shown} is not a directory`);
      }
      throw Object.assign(err as Error, { message: `${shown}: ${(err as Error).message}` });
    }
  }
}

/**
 * Opens the directory at `p`: `base` as it is (the operator's setting, symlinks allowed), every
 * component below it without following symlinks; `create` makes the missing ones.
 */
export function openPinned(base: string, p: string, create = false, realBase = false): number {
  let fd = openBase(base, realBase);
  let shown = base;
  try {
    for (const name of componentsBelow(base, p)) {
      shown = path.join(shown, name);
      const next = openChild(fd, name, shown, create);
      fs.closeSync(fd);
      fd = next;
    }
    return fd;
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}

/**
 * Opens the trusted base. A mount point's base must be its real path: the mount table names
 * mounts by real path, and a mount made through a symlinked base would not be at the path asked for.
 */
function openBase(base: string, realBase: boolean): number {
  const fd = fs.openSync(base, O_PATH | fs.constants.O_DIRECTORY);
  if (realBase && whereIs(fd) !== base) {
    const real = whereIs(fd);
    fs.closeSync(fd);
    throw walkError('ELOOP', `${base} goes through a symbolic link (it is ${real}); staging and target paths must be real paths`);
  }
  return fd;
}

/** The pinned parent of `p` (walked from `base`, which must be a real path) and the name of `p` in it. */
export function openPinnedParent(base: string, p: string, create = false): { parentFd: number; name: string } {
  const parts = componentsBelow(base, p);
  const name = parts[parts.length - 1] as string;
  const parentFd = parts.length === 1 ? openBase(base, true) : openPinned(base, path.dirname(p), create, true);
  return { parentFd, name };
}

/** The mount a descriptor is on (fdinfo's mnt_id); procfs, so it never touches the filesystem. */
export function mountIdOf(fd: number): number {
  const m = /^mnt_id:\s*(\d+)$/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
  if (!m) throw walkError('EUNKNOWN', `no mnt_id for descriptor ${fd}`);
  return Number(m[1]);
}

export function readMountInfo(): MountEntry[] {
  return parseMountInfo(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
}

/** Where the pinned directory is now (the kernel's name for it; nothing on disk is read). */
export function whereIs(fd: number): string {
  return fs.readlinkSync(fdPath(fd));
}

/**
 * What is at `<parentFd>/<name>`: nothing, a directory, or the top-most mount stacked there.
 * The name is opened O_PATH without following it: the lookup crosses into a mount on it, and the
 * descriptor's mount id (fdinfo) tells which, without reading or stat-ing anything on that mount
 * (it may be a hung server), and without comparing path strings that a concurrent rename of a
 * parent changes. A mount point cannot be renamed or exchanged away, so the answer holds until
 * the caller acts on the same pinned parent and name.
 */
export function topMountOn(parentFd: number, name: string, shown: string): { exists: boolean; top?: MountEntry } {
  let fd: number;
  try {
    fd = openChild(parentFd, name, shown);
  } catch (err) {
    if (codeOf(err) === 'ENOENT') return { exists: false };
    throw err;
  }
  try {
    const id = mountIdOf(fd);
    if (id === mountIdOf(parentFd)) return { exists: true };
    const top = readMountInfo().find((e) => e.mountId === id);
    if (!top) throw walkError('EUNKNOWN', `the mount on ${shown} (id ${id}) is not in the mount table`);
    return { exists: true, top };
  } finally {
    fs.closeSync(fd);
  }
}

const deletedMark = /\/\/deleted$/;

export function identityOf(e: MountEntry): MountIdentity {
  return { device: e.device, root: e.root.replace(deletedMark, '') };
}

export const sameIdentity = (a: MountIdentity, b: MountIdentity): boolean => a.device === b.device && a.root === b.root;

/**
 * The identity a bind of the pinned directory would have: its filesystem and its path inside
 * it, read from the mount it is on. Used to check that a staging path still holds the staging
 * mount before it is bound into a pod.
 */
export function pinnedIdentity(table: readonly MountEntry[], fd: number): MountIdentity & { mountPoint: string } {
  const id = mountIdOf(fd);
  const e = table.find((x) => x.mountId === id);
  if (!e) throw walkError('ENOENT', `the mount of ${whereIs(fd)} is not in the mount table`);
  const rel = path.relative(e.mountPoint, whereIs(fd));
  const root = identityOf(e).root;
  return { device: e.device, root: rel === '' ? root : path.join(root, rel), mountPoint: e.mountPoint };
}
