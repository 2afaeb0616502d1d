/**
 * Tree copy and tree removal that never leave the tree, whatever its content does meanwhile.
 *
 * A pod that can write a volume can turn any directory of it into a symlink to anywhere at any
 * moment (an atomic rename exchange). A walk that re-resolves path strings (`cp -a`,
 * `fs.rmSync`) then reads or deletes outside the volume. Here every directory is opened once,
 * without following symlinks, and everything below it is reached through that open handle:
 * Node has no openat(), so `/proc/self/fd/<dirFd>/<name>` stands in for it (the kernel resolves
 * the magic link to the pinned directory itself, and O_NOFOLLOW, unlink, rmdir, mkdir and
 * symlink never follow the last component). Each entry is first opened with O_PATH|O_NOFOLLOW,
 * which opens nothing (no device is ever opened, a symlink yields a handle to the link itself),
 * and its fstat decides what it is; a directory or file is then reopened through that handle,
 * so the object acted on is the one that was looked at. Like coreutils' rm (fts, FTS_PHYSICAL)
 * a directory on another device (a mount inside the volume) is never entered.
 *
 * Runs in a helper process only: the calls are synchronous and may hang on a dead server.
 */
import * as fs from 'node:fs';
import type { TreeCopyRequest, TreeCopyResult, TreeLimits, TreeRemoveRequest } from './fsOps';
import { mountPointsOf } from '../mount/mountTable';
import {
  at,
  closeQuietly,
  dirFlags,
  errCode,
  fail,
  limitsOf,
  lookAt,
  namesIn,
  openPinnedChild,
  openPinnedDir,
  self,
  Walk,
  type EntryName,
} from './pinnedHandles';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_DIRECTORY, O_NOFOLLOW } = fs.constants;

/** A removal moves directories deeper than this to the top instead of holding more handles. */
const removeFlattenDepth = 64;
/** Attempts at one name whose entry keeps changing under the walk before giving up (ENOTEMPTY). */
const maxAttempts = 8;

/** Owner, mode and times of `st` onto an open handle; the owner first, since chown clears set-id bits. */
function applyMeta(fd: number, st: fs.Stats): void {
  fs.fchownSync(fd, st.uid, st.gid);
  fs.fchmodSync(fd, st.mode & 0o7777);
  fs.futimesSync(fd, st.atime, st.mtime);
}

function copyFile(pfd: number, st: fs.Stats, dstDir: number, name: EntryName): void {
  const src = fs.openSync(self(pfd), O_RDONLY);
  try {
    const dst = fs.openSync(at(dstDir, name), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
    try {
      fs.copyFileSync(self(src), self(dst));
      applyMeta(dst, st);
    } finally {
      closeQuietly(dst);
    }
  } finally {
    closeQuietly(src);
  }
}

/** A symlink is copied as a symlink; its target is data, never followed. False when the entry changed meanwhile. */
function copySymlink(srcDir: number, name: EntryName, st: fs.Stats, dstDir: number): boolean {
  let target: Buffer;
  try {
    target = fs.readlinkSync(at(srcDir, name), { encoding: 'buffer' });
  } catch (err) {
    if (errCode(err) === 'EINVAL' || errCode(err) === 'ENOENT') return false;
    throw err;
  }
  fs.symlinkSync(target, at(dstDir, name));
  fs.lchownSync(at(dstDir, name), st.uid, st.gid);
  fs.lutimesSync(at(dstDir, name), st.atime, st.mtime);
  return true;
}

function copyDir(w: Walk, pfd: number, st: fs.Stats, dstParent: number, name: EntryName, depth: number, out: TreeCopyResult): void {
  if (depth > w.limits.maxDepth) fail('ETREELIMIT', `the tree is deeper than ${w.limits.maxDepth} levels`);
  const src = fs.openSync(self(pfd), O_RDONLY | O_DIRECTORY);
  try {
    fs.mkdirSync(at(dstParent, name), { mode: 0o700 });
    const dst = fs.openSync(at(dstParent, name), dirFlags);
    try {
      copyEntries(w, src, dst, depth, [], out);
      applyMeta(dst, st);
    } finally {
      closeQuietly(dst);
    }
  } finally {
    closeQuietly(src);
  }
}

/** Copies one entry of `srcDir`; an entry that changed while it was read is looked at again. */
function copyEntry(w: Walk, srcDir: number, dstDir: number, name: EntryName, depth: number, out: TreeCopyResult): void {
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    w.count();
    const seen = lookAt(srcDir, name);
    if (!seen) return;
    try {
      const { pfd, st } = seen;
      if (st.isDirectory() && st.dev === w.dev) copyDir(w, pfd, st, dstDir, name, depth + 1, out);
      else if (st.isFile()) copyFile(pfd, st, dstDir, name);
      else if (!st.isSymbolicLink()) {
        // A device, fifo or socket, or a mount point: not the volume's data.
        out.skipped++;
        return;
      } else if (!copySymlink(srcDir, name, st, dstDir)) continue;
      out.copied++;
      return;
    } finally {
      closeQuietly(seen.pfd);
    }
  }
  out.skipped++;
}

function copyEntries(w: Walk, srcDir: number, dstDir: number, depth: number, exclude: readonly string[], out: TreeCopyResult): void {
  for (const name of namesIn(srcDir)) {
    if (!exclude.some((ex) => name.equals(Buffer.from(ex)))) copyEntry(w, srcDir, dstDir, name, depth, out);
  }
}

/**
 * Copies the directory `root`/`from` into the empty directory `root`/`to`: directories,
 * regular files by content, symlinks as symlinks, with owners, modes and times. Special files
 * (devices, fifos, sockets) and mount points inside the tree are left out and counted.
 */
export function copyTree(req: TreeCopyRequest): TreeCopyResult {
  const src = openPinnedDir(req.root, req.from);
  try {
    const dst = openPinnedDir(req.root, req.to);
    try {
      const st = fs.fstatSync(src);
      const w = new Walk(limitsOf(req), st.dev);
      const out: TreeCopyResult = { copied: 0, skipped: 0 };
      copyEntries(w, src, dst, 0, req.exclude ?? [], out);
      applyMeta(dst, st);
      return out;
    } finally {
      closeQuietly(dst);
    }
  } finally {
    closeQuietly(src);
  }
}

class Removal extends Walk {
  removed = 0;
  moved = 0;
  constructor(
    limits: TreeLimits,
    dev: number,
    /** The tree's own directory, where too-deep directories are moved to be removed from the top. */
    readonly topFd: number,
  ) {
    super(limits, dev);
  }
}

/**
 * Removes one entry of `dirFd`: a file or symlink by unlink, a directory by emptying it through
 * its handle and rmdir. The top gets one more pass for each directory moved up into it.
 */
function removeEntry(r: Removal, dirFd: number, name: EntryName, depth: number): void {
  for (let attempt = 0; attempt < maxAttempts + (depth === 0 ? r.moved : 0); attempt++) {
    r.count();
    const seen = lookAt(dirFd, name);
    if (!seen) return;
    try {
      if (seen.st.isDirectory()) {
        if (seen.st.dev !== r.dev) fail('EBUSY', `${name.toString()} is a mount point inside the tree`);
        if (depth >= removeFlattenDepth) {
          fs.renameSync(at(dirFd, name), at(r.topFd, `.csi-rm-${process.pid}-${r.moved++}`));
          return;
        }
        const fd = fs.openSync(self(seen.pfd), O_RDONLY | O_DIRECTORY);
        try {
          for (const child of namesIn(fd)) removeEntry(r, fd, child, depth + 1);
        } finally {
          closeQuietly(fd);
        }
      }
      if (unlinkOrRmdir(dirFd, name, seen.st.isDirectory())) {
        r.removed++;
        return;
      }
    } finally {
      closeQuietly(seen.pfd);
    }
  }
  fail('ENOTEMPTY', `${name.toString()} kept changing while it was removed`);
}

/** True when the name is gone; false when what it names changed since it was looked at (look again). */
function unlinkOrRmdir(dirFd: number, name: EntryName, isDir: boolean): boolean {
  try {
    if (isDir) fs.rmdirSync(at(dirFd, name));
    else fs.unlinkSync(at(dirFd, name));
    return true;
  } catch (err) {
    const code = errCode(err);
    if (code === 'ENOENT') return true;
    if (code === 'ENOTDIR' || code === 'EISDIR' || code === 'ENOTEMPTY' || code === 'EEXIST') return false;
    throw err;
  }
}

/** A mount point at or below the tree (read from the mount table) makes the removal fail closed. */
function refuseMountsBelow(top: string): void {
  // The kernel's own path of the pinned directory, in one call (a directory reached from the
  // root has no symlink in that path; realpath would lstat every component again).
  const real = fs.readlinkSync(top);
  const below = mountPointsOf(fs.readFileSync('/proc/self/mountinfo', 'utf8')).find((p) => p === real || p.startsWith(`${real}/`));
  if (below) fail('EBUSY', `${below} is mounted inside ${top}`);
}

/**
 * Removes `root`/`rel` and everything in it (already gone is fine). Nothing outside it is ever
 * removed: every unlink and rmdir acts inside a directory reached from the tree's own handle.
 */
export function removeTree(req: TreeRemoveRequest): { removed: number } {
  const parentRel = req.rel.slice(0, -1);
  const last = req.rel[req.rel.length - 1];
  if (last === undefined) fail('EINVAL', 'refusing to remove the root itself');
  const name = Buffer.from(last);
  let parent: number;
  try {
    parent = openPinnedDir(req.root, parentRel);
  } catch (err) {
    if (errCode(err) === 'ENOENT') return { removed: 0 };
    throw err;
  }
  try {
    let top: number;
    try {
      top = openPinnedChild(parent, last);
    } catch (err) {
      if (errCode(err) === 'ENOENT') return { removed: 0 };
      if (errCode(err) !== 'ENOTDIR' && errCode(err) !== 'ELOOP') throw err;
      // Not a directory: a file or a symlink is unlinked as itself.
      if (!unlinkOrRmdir(parent, name, false)) fail('EISDIR', `${last} changed while it was removed`);
      return { removed: 1 };
    }
    try {
      refuseMountsBelow(self(top));
      const r = new Removal(limitsOf(req), fs.fstatSync(top).dev, top);
      removeEntry(r, parent, name, 0);
      return { removed: r.removed };
    } finally {
      closeQuietly(top);
    }
  } finally {
    closeQuietly(parent);
  }
}
