import * as path from 'node:path';
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
