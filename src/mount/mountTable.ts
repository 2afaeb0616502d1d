import { readFile } from 'node:fs/promises';

/** One line of /proc/self/mountinfo. */
export interface MountEntry {
  mountId: number;
  parentId: number;
  /** major:minor of the filesystem. */
  device: string;
  /** The path inside the filesystem that is mounted here (not "/" for bind mounts of a sub-directory). */
  root: string;
  mountPoint: string;
  options: string[];
  fsType: string;
  source: string;
  superOptions: string[];
}

/** mountinfo escapes space, tab, newline and backslash as \ooo octal. */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Parses the text of /proc/self/mountinfo; lines it cannot read are skipped. */
export function parseMountInfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const right = line.slice(sep + 3).split(' ');
    const [mountId, parentId, device, root, mountPoint, options] = left;
    const [fsType, source, superOptions] = right;
    if (
      mountId === undefined ||
      parentId === undefined ||
      device === undefined ||
      root === undefined ||
      mountPoint === undefined ||
      options === undefined ||
      fsType === undefined
    )
      continue;
    out.push({
      mountId: Number(mountId),
      parentId: Number(parentId),
      device,
      root: unescape(root),
      mountPoint: unescape(mountPoint),
      options: options.split(','),
      fsType,
      source: unescape(source ?? ''),
      superOptions: (superOptions ?? '').split(','),
    });
  }
  return out;
}

/** Reads the mount table; a function so tests can replace it. */
export type MountTableReader = () => Promise<MountEntry[]>;

/**
 * Reads /proc/self/mountinfo. procfs answers from the kernel's own mount list, without asking
 * any filesystem, so this is safe even while an NFS server is gone.
 */
export const readMountTable: MountTableReader = async () => parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8'));

/** The top-most mount at `mountPoint` (the last one listed), if any. */
export function findMount(table: MountEntry[], mountPoint: string): MountEntry | undefined {
  for (let i = table.length - 1; i >= 0; i--) {
    const e = table[i];
    if (e && e.mountPoint === mountPoint) return e;
  }
  return undefined;
}
