import type { FileRunner } from '../isolation/fsHelperPool';
import type { ProbeResult } from '../isolation/fsOps';
import { IsolationTimeoutError } from '../isolation/isolationErrors';
import type { MountEntry } from '../mount/mountTable';
import type { MountRegistration } from './mountRegistration';

/** Where probes keep their scratch files inside a mount. */
export const hiddenDir = '.csi-health';

/** A probe outcome with its own duration. */
export interface TimedProbe {
  result: ProbeResult;
  elapsedMs: number;
}

/** Checks the mount table entry of a registration; a result when it is wrong, undefined when fine. */
const deletedMark = '//deleted';

export function mountTableProblem(reg: MountRegistration, table: Map<string, MountEntry>): ProbeResult | undefined {
  const entry = table.get(reg.path);
  if (!entry) return { ok: false, code: 'ENOTMOUNTED', message: `${reg.path} is not in the mount table` };
  if (reg.expectedSource && entry.source !== reg.expectedSource) {
    return { ok: false, code: 'EWRONGSOURCE', message: `${reg.path} is mounted from ${entry.source}, expected ${reg.expectedSource}` };
  }
  // A bind mount keeps working on a directory that was deleted; the kernel marks its root so.
  if (entry.root.endsWith(deletedMark)) {
    return { ok: false, code: 'ESOURCEDELETED', message: `${reg.path} is bound to ${entry.root.slice(0, -deletedMark.length)}, which was deleted` };
  }
  return undefined;
}

export function timeoutResult(timeoutMs: number): ProbeResult {
  return { ok: false, code: 'ETIMEDOUT', message: `probe did not answer within ${timeoutMs}ms: mount is unresponsive` };
}

/** One mount, one helper, a hard deadline. `gone` settles when the helper is free or dead. */
export function probeOne(pool: FileRunner, reg: MountRegistration, delayMs: number, timeoutMs: number): { done: Promise<ProbeResult>; gone: Promise<void> } {
  const run = pool.runTracked({ op: 'probe', path: reg.path, write: !reg.readOnly, hiddenDir, delayMs, requireMount: true }, timeoutMs);
  const done = run.result.catch((err: unknown) =>
    err instanceof IsolationTimeoutError ? timeoutResult(timeoutMs) : { ok: false, code: 'EUNKNOWN', message: (err as Error).message },
  );
  return { done, gone: run.gone };
}

/**
 * Several healthy, fast mounts in one helper round trip (the messages, not the I/O, are most of
 * a probe's cost). Resolves with one result per mount, or undefined when the batch overstayed
 * its deadline or failed: then nobody knows which mount hung, and each is probed on its own.
 */
export async function probeBatch(pool: FileRunner, regs: MountRegistration[], deadlineMs: number): Promise<TimedProbe[] | undefined> {
  try {
    const items = regs.map((r) => ({ path: r.path, write: !r.readOnly, hiddenDir, requireMount: true }));
    const results = await pool.run({ op: 'probeBatch', path: regs[0]?.path ?? '', items }, deadlineMs);
    if (results.length !== regs.length) return undefined;
    return results.map(({ elapsedMs, ...result }) => ({ result, elapsedMs }));
  } catch {
    return undefined;
  }
}
