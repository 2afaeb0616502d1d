/**
 * Directory handles that stand in for openat(), which Node lacks: `/proc/self/fd/<dirFd>/<name>`
 * is resolved by the kernel inside the pinned directory itself, and O_NOFOLLOW (or unlink,
 * rmdir, mkdir, symlink, which never follow the last component) keeps the last step in it.
 * Used only inside helper processes: the calls are synchronous and may hang on a dead server.
 */
import * as fs from 'node:fs';
import type { TreeLimits } from './fsOps';

/** Linux x86_64 and arm64 share this value; Node does not export it. */
export const O_PATH = 0o10000000;
const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW } = fs.constants;
export const dirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW;

export const defaultTreeLimits: TreeLimits = { maxEntries: 2_000_000, maxDepth: 256 };

/**
 * A name as the directory holds it: raw bytes, so a name that is not valid UTF-8 (a pod may make
 * one) is acted on as it is instead of being decoded into a name that does not exist.
 */
export type EntryName = Buffer;

/** `<name>` inside the directory pinned by `dirFd`. */
export const at = (dirFd: number, name: string | EntryName): Buffer =>
  Buffer.concat([Buffer.from(`/proc/self/fd/${dirFd}/`), typeof name === 'string' ? Buffer.from(name) : name]);

/** The names in the directory pinned by `dirFd`, as raw bytes. */
export const namesIn = (dirFd: number): EntryName[] => fs.readdirSync(`/proc/self/fd/${dirFd}`, { encoding: 'buffer' });
export const self = (fd: number): string => `/proc/self/fd/${fd}`;

export function fail(code: string, message: string): never {
  throw Object.assign(new Error(message), { code });
}

export function errCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

export function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // closing a handle never fails in a way that matters here
  }
}

/** Opens `root` (trusted, as configured) and then each component of `rel` without following a symlink. */
export function openPinnedDir(root: string, rel: readonly string[]): number {
  let fd = fs.openSync(root, O_RDONLY | O_DIRECTORY);
  for (const name of rel) {
    let next: number;
    try {
      next = openPinnedChild(fd, name);
    } finally {
      closeQuietly(fd);
    }
    fd = next;
  }
  return fd;
}

/** The directory `name` inside the open directory `dirFd`, opened the same way (one component, never a symlink). */
export function openPinnedChild(dirFd: number, name: string): number {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0'))
    fail('EINVAL', `bad path component ${JSON.stringify(name)}`);
  return fs.openSync(at(dirFd, name), dirFlags);
}

/** An entry opened for what it is: a handle that opens nothing, and what fstat says of it. */
export function lookAt(dirFd: number, name: EntryName): { pfd: number; st: fs.Stats } | undefined {
  let pfd: number;
  try {
    pfd = fs.openSync(at(dirFd, name), O_PATH | O_NOFOLLOW);
  } catch (err) {
    if (errCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return { pfd, st: fs.fstatSync(pfd) };
  } catch (err) {
    closeQuietly(pfd);
    throw err;
  }
}

export class Walk {
  entries = 0;
  constructor(
    readonly limits: TreeLimits,
    readonly dev: number,
  ) {}

  count(): void {
    if (++this.entries > this.limits.maxEntries) fail('ETREELIMIT', `the tree has more than ${this.limits.maxEntries} entries`);
  }
}

export function limitsOf(req: { limits?: Partial<TreeLimits> }): TreeLimits {
  return { ...defaultTreeLimits, ...req.limits };
}
