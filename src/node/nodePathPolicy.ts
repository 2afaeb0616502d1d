import * as path from 'node:path';
import { IsolatedFsError } from '../isolation/isolationErrors';
import { invalidArgument } from '../grpc/csiError';
import { requireAbsolutePath } from '../grpc/validateCommon';

/** Where staging and target paths may be. */
export interface NodePathPolicy {
  /** The kubelet's directory: every staging and target path the kubelet hands out is under it. */
  kubeletDir: string;
  /** Directories of the driver's own that no mount may land in (the local share, the state dir). */
  forbidden: string[];
}

const inside = (p: string, dir: string): boolean => dir === '/' || p === dir || p.startsWith(dir + path.sep);

/**
 * A staging or target path the driver may create and mount on: absolute, clean, under the
 * kubelet directory and not in the driver's own directories. Without this, a caller could make
 * the driver create directories anywhere, mount over system paths, or unmount the host's mounts.
 */
export function requireNodePath(policy: NodePathPolicy, field: string, value: string): string {
  const p = requireAbsolutePath(field, value);
  if (!inside(p, policy.kubeletDir) || p === policy.kubeletDir) {
    throw invalidArgument(`${field} ${p} is not under the kubelet directory ${policy.kubeletDir} (see --kubelet-dir)`);
  }
  for (const dir of policy.forbidden) {
    if (inside(p, dir) || inside(dir, p)) throw invalidArgument(`${field} ${p} overlaps the driver's own directory ${dir}`);
  }
  return p;
}

/** Errors that a path itself causes: too long a name, a file on the way or at the end, a symlink loop. */
const callerPathCodes = new Set(['ENAMETOOLONG', 'ENOTDIR', 'EEXIST', 'ELOOP']);

/**
 * Runs `fn`; a helper error caused by one of the caller's own `paths` (a name too long, a file
 * where a directory must be, a symlink loop) is the caller's mistake, INVALID_ARGUMENT, not ours.
 */
export async function callerPathErrors<T>(paths: readonly string[], fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof IsolatedFsError && callerPathCodes.has(err.code) && paths.includes(err.path)) {
      throw invalidArgument(`${err.path} cannot be used (${err.code} during ${err.op}): ${err.message}`);
    }
    throw err;
  }
}

/**
 * Why a new mount at `p` would clash with the mounts there are: it would lie inside one of this
 * node's own mounts (its directory would be made in that volume, and a delete of that volume
 * would reach through it into this one), or cover mounts below it. Mounts of others are not
 * "inside" clashes: a node may keep, say, its pods directory on a disk of its own.
 */
export function mountOverlap(p: string, mountPoints: readonly string[], isOwn: (mountPoint: string) => boolean): string | undefined {
  for (const m of mountPoints) {
    if (m === p) continue;
    if (inside(m, p)) return `${p} would cover the mount at ${m}`;
    if (inside(p, m) && isOwn(m)) return `${p} lies inside the mount at ${m}`;
  }
  return undefined;
}
