import { readFileSync, readdirSync } from 'node:fs';

/** One child process of the driver as /proc shows it. */
export interface ChildInfo {
  pid: number;
  /** The one-letter state of /proc/<pid>/stat: R, S, D (uninterruptible), T (stopped), Z (zombie). */
  state: string;
  rssKb: number;
  /** The command line, NUL separators turned into spaces. */
  command: string;
}

/** The driver process and its children at one moment. */
export interface ProcessSample {
  atMs: number;
  rssKb: number;
  fds: number;
  children: ChildInfo[];
}

/** VmRSS of /proc/<pid>/status in kB; 0 for a zombie (which has no memory). */
function rssKb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

/** Pid, state and parent pid from /proc/<pid>/stat (the command name may hold spaces and parentheses). */
function statOf(pid: number): { state: string; ppid: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0] ?? '?', ppid: Number(rest[1]) };
  } catch {
    return undefined;
  }
}

/** The direct children of `pid` (helpers fork from a worker thread, so /proc/<pid>/task/<tid>/children would need every task; the parent pid is simpler). */
export function childrenOf(pid: number): ChildInfo[] {
  const out: ChildInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const child = Number(name);
    const st = statOf(child);
    if (!st || st.ppid !== pid) continue;
    try {
      const command = readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0').join(' ').trim();
      out.push({ pid: child, state: st.state, rssKb: st.state === 'Z' ? 0 : rssKb(child), command });
    } catch {
      // exited between the listing and the read
    }
  }
  return out;
}

/** Reads RSS, open descriptors and children of one process; throws if it is gone. */
export function sampleProcess(pid: number): ProcessSample {
  return { atMs: Date.now(), rssKb: rssKb(pid), fds: readdirSync(`/proc/${pid}/fd`).length, children: childrenOf(pid) };
}

/** File helpers are the driver's forked fsHelperMain processes (mount, umount and tar come and go). */
export function isFileHelper(c: ChildInfo): boolean {
  return c.command.includes('fsHelperMain');
}
