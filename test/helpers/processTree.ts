import { readFileSync, readdirSync } from 'node:fs';

/** Every process below `root` (children, their children, ...), from the parent pids in /proc/<pid>/stat. */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(name));
      children.set(ppid, list);
    } catch {
      // the process ended while we looked
    }
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const c of children.get(queue.shift()!) ?? []) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

/** One process as /proc shows it: identity (pid and start time, against pid reuse) and state. */
export interface ProcessIdentity {
  pid: number;
  /** Clock ticks after boot at which it started (field 22 of /proc/<pid>/stat). */
  startTime: string;
  command: string;
}

/** What became of a process seen earlier. */
export type ProcessFate = 'gone' | 'zombie' | 'killed' | 'alive';

function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** The identity of a running process, or undefined when it is gone. */
export function identify(pid: number): ProcessIdentity | undefined {
  const f = statFields(pid);
  if (!f) return undefined;
  let command = '';
  try {
    command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    // ended meanwhile
  }
  return { pid, startTime: f[19] ?? '', command };
}

/**
 * What became of `p`: gone (or its pid reused), a zombie, killed (SIGKILL pending, so it ends as
 * soon as the kernel lets it, e.g. when a frozen FUSE request returns), or still alive.
 */
export function fateOf(p: ProcessIdentity): ProcessFate {
  const f = statFields(p.pid);
  if (!f || f[19] !== p.startTime) return 'gone';
  if (f[0] === 'Z' || f[0] === 'X') return 'zombie';
  try {
    const status = readFileSync(`/proc/${p.pid}/status`, 'utf8');
    const sigkill = 1n << 8n; // signal 9 is bit 8 of the pending masks
    for (const field of ['SigPnd', 'ShdPnd']) {
      const m = new RegExp(`^${field}:\\s*([0-9a-f]+)$`, 'm').exec(status);
      if (m?.[1] && (BigInt(`0x${m[1]}`) & sigkill) !== 0n) return 'killed';
    }
  } catch {
    return 'gone';
  }
  return 'alive';
}
