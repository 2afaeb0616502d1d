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
  // Most fields have nothing escaped: no regex run over a thousand lines for nothing.
  if (!field.includes('\\')) return field;
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Parses one line of mountinfo; undefined for a line it cannot read. */
function parseMountLine(line: string): MountEntry | undefined {
  const sep = line.indexOf(' - ');
  if (sep < 0) return undefined;
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
    return undefined;
  return {
    mountId: Number(mountId),
    parentId: Number(parentId),
    device,
    root: unescape(root),
    mountPoint: unescape(mountPoint),
    options: options.split(','),
    fsType,
    source: unescape(source ?? ''),
    superOptions: (superOptions ?? '').split(','),
  };
}

/** Parses the text of /proc/self/mountinfo; lines it cannot read are skipped. */
export function parseMountInfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const e = line ? parseMountLine(line) : undefined;
    if (e) out.push(e);
  }
  return out;
}

/** A path as mountinfo writes it: space, tab, newline and backslash as \ooo octal. */
function escapeMountPath(p: string): string {
  return p.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

/**
 * The top-most mount at `mountPoint` in mountinfo text, parsing only the lines that name the
 * path. A lookup per umount step or publish check, with hundreds of mounts on the node, would
 * otherwise parse (and give the collector) the whole table each time.
 */
export function findMountInText(text: string, mountPoint: string): MountEntry | undefined {
  const needle = ` ${escapeMountPath(mountPoint)} `;
  let found: MountEntry | undefined;
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) {
    const start = text.lastIndexOf('\n', at) + 1;
    const end = text.indexOf('\n', at);
    const e = parseMountLine(text.slice(start, end < 0 ? undefined : end));
    // The same text may stand in another field (a bind mount's root): only the mount point counts.
    if (e && e.mountPoint === mountPoint) found = e;
  }
  return found;
}

/** The mount point of every line of mountinfo text, unescaped, in order. */
export function mountPointsOf(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    let i = -1;
    for (let field = 0; field < 4 && (i = line.indexOf(' ', i + 1)) >= 0; field++);
    if (i < 0) continue;
    const end = line.indexOf(' ', i + 1);
    if (end > i) out.push(unescape(line.slice(i + 1, end)));
  }
  return out;
}

/**
 * Mount point -> id of the top-most mount there (later lines are mounted over earlier ones),
 * reading only those two fields of each line: a probe round needs nothing else, and a full
 * parse of a thousand lines costs several times more.
 */
export function mountIdsOf(text: string): Map<string, number> {
  const ids = new Map<string, number>();
  for (let start = 0; start < text.length;) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const idEnd = text.indexOf(' ', start);
    let i = idEnd;
    for (let field = 1; field < 4 && i >= 0 && i < end; field++) i = text.indexOf(' ', i + 1);
    const pointEnd = i >= 0 ? text.indexOf(' ', i + 1) : -1;
    const id = Number(text.slice(start, idEnd));
    if (idEnd > start && pointEnd > i && pointEnd < end && Number.isInteger(id)) ids.set(unescape(text.slice(i + 1, pointEnd)), id);
    start = end + 1;
  }
  return ids;
}

export const mountInfoPath = '/proc/self/mountinfo';

/** The text of /proc/self/mountinfo (procfs answers from the kernel's own list, never asking a filesystem). */
export const readMountInfoText = (): Promise<string> => readFile(mountInfoPath, 'utf8');

/** Reads the mount table; a function so tests can replace it. */
export type MountTableReader = () => Promise<MountEntry[]>;

/**
 * Reads /proc/self/mountinfo. procfs answers from the kernel's own mount list, without asking
 * any filesystem, so this is safe even while an NFS server is gone.
 */
export const readMountTable: MountTableReader = async () => parseMountInfo(await readMountInfoText());

/**
 * A mount table reader that parses only when the text changed since its last read. With a
 * thousand mounts a parse costs milliseconds and leaves tens of thousands of objects for the
 * collector, while between two reads the table mostly has not changed. The entries are shared
 * by every read that saw the same text: callers must not change them.
 */
export function reusingMountTableReader(readText: () => Promise<string> = readMountInfoText): MountTableReader {
  let last: { text: string; entries: MountEntry[] } | undefined;
  return async () => {
    const text = await readText();
    if (last?.text !== text) last = { text, entries: parseMountInfo(text) };
    return last.entries;
  };
}

/** The top-most mount at `mountPoint` (the last one listed), if any. */
export function findMount(table: MountEntry[], mountPoint: string): MountEntry | undefined {
  for (let i = table.length - 1; i >= 0; i--) {
    const e = table[i];
    if (e && e.mountPoint === mountPoint) return e;
  }
  return undefined;
}
