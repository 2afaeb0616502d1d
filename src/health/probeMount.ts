import type { ProbeItem, ProbeResult } from '../isolation/fsOps';
import type { MountEntry } from '../mount/mountTable';
import type { MountRegistration } from './mountRegistration';

/** Where probes keep their scratch files inside a mount. */
export const hiddenDir = '.csi-health';

const deletedMark = '//deleted';

/** Checks the mount table entry of a registration; a result when it is wrong, undefined when fine. */
export function mountTableProblem(reg: MountRegistration, table: Map<string, MountEntry>): ProbeResult | undefined {
  const entry = table.get(reg.path);
  if (!entry) return { ok: false, code: 'ENOTMOUNTED', message: `${reg.path} is not in the mount table` };
  if (reg.expectedSource && entry.source !== reg.expectedSource) {
    return { ok: false, code: 'EWRONGSOURCE', message: `${reg.path} is mounted from ${entry.source}, expected ${reg.expectedSource}` };
  }
  // A bind mount keeps working on a directory that was deleted; the kernel marks its root so.
  if (entry.root.endsWith(deletedMark)) {
    return {
      ok: false,
      code: 'ESOURCEDELETED',
      message: `${reg.path} is bound to ${entry.root.slice(0, -deletedMark.length)}, which was deleted`,
    };
  }
  return undefined;
}

export function timeoutResult(timeoutMs: number): ProbeResult {
  return { ok: false, code: 'ETIMEDOUT', message: `probe did not answer within ${timeoutMs}ms: mount is unresponsive` };
}

/** What a probe round sends for one mount. */
export function probeItemOf(reg: MountRegistration, delayMs: number, sweep: boolean, mountId?: number): ProbeItem {
  return {
    path: reg.path,
    write: !reg.readOnly,
    hiddenDir,
    requireMount: true,
    ...(mountId !== undefined ? { mountId } : {}),
    ...(delayMs > 0 ? { delayMs } : {}),
    ...(sweep ? { sweep } : {}),
  };
}
