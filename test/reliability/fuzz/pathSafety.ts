import { lstatSync, readlinkSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { FuzzWorld } from './fuzzWorld';
import type { Request } from './rpcCatalog';

/** Where `p` lands, symlinks followed component by component as the kernel does. */
export function resolveLikeKernel(p: string, cwd: string): string {
  let resolved = p.startsWith('/') ? '/' : cwd;
  const queue = p.split('/');
  let hops = 0;
  while (queue.length > 0) {
    const c = queue.shift() as string;
    if (c === '' || c === '.') continue;
    if (c === '..') {
      resolved = path.dirname(resolved);
      continue;
    }
    const next = path.join(resolved, c);
    let isLink = false;
    try {
      isLink = lstatSync(next).isSymbolicLink();
    } catch {
      // does not exist (yet): the rest is taken literally
    }
    if (!isLink) {
      resolved = next;
      continue;
    }
    if (++hops > 40) return next;
    const target = readlinkSync(next);
    queue.unshift(...target.split('/'));
    if (target.startsWith('/')) resolved = '/';
  }
  return resolved;
}

/** Is `p` at or under `dir`? */
export function isWithin(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir.endsWith('/') ? dir : `${dir}/`);
}

/** Does `p` sit in a top-level entry of /tmp or / that only this run's paths are named like? */
export function isRunOutsidePath(p: string, w: FuzzWorld): boolean {
  for (const parent of [os.tmpdir(), '/']) {
    const rel = path.relative(parent, p);
    if (rel && !rel.startsWith('..') && rel.split('/')[0]!.startsWith(w.outsidePrefix)) return true;
  }
  return false;
}

/** The request fields the driver mounts at, binds from, or unmounts. */
const mountPathFields: Readonly<Record<string, readonly string[]>> = {
  NodeStageVolume: ['staging_target_path'],
  NodeUnstageVolume: ['staging_target_path'],
  NodePublishVolume: ['staging_target_path', 'target_path'],
  NodeUnpublishVolume: ['target_path'],
};

/**
 * Why a request must not be sent, or undefined. This guards the machine the suite runs on, not
 * the driver: a request may only make the driver mount or unmount inside the run's root or the
 * run's own outside paths, so that a driver bug cannot take a real mount (/, /proc, another
 * suite's directories) with it.
 */
export function unsafeToSend(rpc: string, req: Request, w: FuzzWorld): string | undefined {
  for (const field of mountPathFields[rpc] ?? []) {
    const v = req[field];
    if (typeof v !== 'string' || v.includes('\0')) continue;
    const landsAt = resolveLikeKernel(v, w.dirs.root);
    if (!isWithin(landsAt, w.dirs.root) && !isRunOutsidePath(landsAt, w))
      return `${field} ${JSON.stringify(v).slice(0, 120)} lands at ${landsAt}`;
  }
  return undefined;
}
