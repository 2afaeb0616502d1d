import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { descendants } from '../test/helpers/processTree';

const cpuRoot = '/sys/fs/cgroup/cpu';

/** A CPU cgroup holding the driver and what it starts, as its container does on a node. */
export interface PodCpuGroup {
  /** Where it is, or why there is none. */
  description: string;
  remove(): void;
}

/**
 * Moves the driver and its descendants into a CPU cgroup of their own (cgroup v1 `cpu`, default
 * shares). On a node the node plugin's container is such a group: its helpers share the pod's
 * CPU weight against the kubelet and everything else. Without it, on a kernel that groups the
 * root cgroup's tasks by session (autogroup), each helper, which leads a session of its own,
 * would weigh as much as the whole bench. Helpers started later are born in the group.
 */
export function podCpuGroup(driverPid: number): PodCpuGroup {
  const dir = path.join(cpuRoot, `csi-driver-bench-${process.pid}`);
  try {
    if (!existsSync(path.join(cpuRoot, 'cgroup.procs')))
      return { description: 'none (no cgroup v1 cpu controller)', remove: () => undefined };
    mkdirSync(dir);
    for (const pid of [driverPid, ...descendants(driverPid)]) {
      try {
        writeFileSync(path.join(dir, 'cgroup.procs'), String(pid));
      } catch {
        // Ended meanwhile.
      }
    }
  } catch (err) {
    return { description: `none (${(err as Error).message})`, remove: () => undefined };
  }
  return {
    description: dir,
    remove: () => {
      // Anything left (a helper still stuck in the kernel) goes back to the root group first.
      for (const pid of readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
        try {
          writeFileSync(path.join(cpuRoot, 'cgroup.procs'), pid);
        } catch {
          // Gone.
        }
      }
      try {
        rmdirSync(dir);
      } catch {
        // Busy still: left for the next run's cleanup to find under its name.
      }
    },
  };
}
