import { IsolatedFsError } from '../isolation/isolationErrors';
import type { NodeMountDeps } from './nodeMountDeps';

/** Reasons after which a staging mount is not trusted and is made again. */
const remountReasons = new Set(['StaleFileHandle', 'TransportError', 'NotMounted']);
/** Errors of a quick look that mean the same. */
const staleCodes = new Set(['ESTALE', 'ENOTCONN', 'EIO']);
/** Deadline of that quick look. */
const staleCheckMs = 3_000;

/**
 * A staging mount is stale when the monitor says so, when its source directory was deleted
 * (the mount table marks the root `//deleted`: the volume was deleted, maybe made again, while
 * staged), or when a quick look answers ESTALE, ENOTCONN or EIO. A look that times out is a
 * hung server, not a stale mount: mounting again would not help, so that counts as not stale.
 */
export async function isStaleStagingMount(
  deps: Pick<NodeMountDeps, 'pool' | 'health'>,
  stagingPath: string,
  mount: { rootDeleted: boolean },
): Promise<boolean> {
  if (mount.rootDeleted) return true;
  if (deps.health.issuesOf(stagingPath).some((i) => remountReasons.has(i.reason))) return true;
  try {
    await deps.pool.run({ op: 'stat', path: stagingPath }, staleCheckMs);
    return false;
  } catch (err) {
    return err instanceof IsolatedFsError && staleCodes.has(err.code);
  }
}
