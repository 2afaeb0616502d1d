import { readFile } from 'node:fs/promises';

/** CAP_SYS_ADMIN is capability 21: mount(2) and umount(2) need it. */
const capSysAdmin = 21n;

/** The node service cannot mount: it runs without root and without CAP_SYS_ADMIN. */
export class MountPrivilegesError extends Error {
  constructor(readonly uid: number | undefined) {
    super(
      `node mode mounts volumes and needs root or CAP_SYS_ADMIN, but this process runs as uid ${uid ?? '?'} without it: ` +
        'start it as root (sudo), give it CAP_SYS_ADMIN (in Kubernetes: a privileged container), or use --mode controller',
    );
    this.name = 'MountPrivilegesError';
  }
}

/** The fields of /proc/self/status that decide whether this process may mount. */
export interface ProcStatus {
  uid: number | undefined;
  /** The effective capability set (CapEff), a hex mask; undefined when unknown. */
  capEff: bigint | undefined;
}

/** Parses the text of /proc/self/status. */
export function parseProcStatus(text: string): ProcStatus {
  const uid = /^Uid:\s+\d+\s+(\d+)/m.exec(text)?.[1];
  const cap = /^CapEff:\s+([0-9a-fA-F]+)/m.exec(text)?.[1];
  return { uid: uid === undefined ? undefined : Number(uid), capEff: cap === undefined ? undefined : BigInt(`0x${cap}`) };
}

/** Reads /proc/self/status (procfs: answered by the kernel, never by a filesystem that could hang). */
export async function readProcStatus(file = '/proc/self/status'): Promise<ProcStatus> {
  try {
    return parseProcStatus(await readFile(file, 'utf8'));
  } catch {
    return { uid: process.getuid?.(), capEff: undefined };
  }
}

/**
 * Throws MountPrivilegesError unless the process has CAP_SYS_ADMIN in its effective set (root has it
 * unless it was dropped). With no capability information (no procfs), uid 0 is taken as enough.
 */
export function requireMountPrivileges(st: ProcStatus): void {
  if (st.capEff !== undefined) {
    if ((st.capEff >> capSysAdmin) & 1n) return;
    throw new MountPrivilegesError(st.uid);
  }
  if (st.uid === 0) return;
  throw new MountPrivilegesError(st.uid);
}
