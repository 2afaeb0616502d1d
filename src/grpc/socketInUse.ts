import * as net from 'node:net';
import { readFile, readdir, readlink } from 'node:fs/promises';
import * as path from 'node:path';

/** The socket path answers: another process (likely another driver) serves it. */
export class SocketInUseError extends Error {
  constructor(
    readonly socketPath: string,
    readonly pid: number | undefined,
  ) {
    super(
      `${socketPath} is in use by ${pid !== undefined ? `pid ${pid}` : 'another process'} (likely another csi-driver): ` +
        'stop it first, or give this one its own --endpoint (env CSI_ENDPOINT)',
    );
    this.name = 'SocketInUseError';
  }
}

/** True when something accepts connections on the unix socket at `socketPath` within `timeoutMs`. */
export function socketAnswers(socketPath: string, timeoutMs = 2_000): Promise<boolean> {
  return new Promise((resolve) => {
    const conn = net.connect({ path: socketPath });
    const done = (answered: boolean): void => {
      clearTimeout(timer);
      conn.destroy();
      resolve(answered);
    };
    // A listener whose backlog is full does not accept at once: waiting that long counts as in use.
    const timer = setTimeout(() => done(true), timeoutMs);
    conn.once('connect', () => done(true));
    conn.once('error', () => done(false));
  });
}

/** The name a driver binds its socket under before renaming it to the endpoint path (see CsiServer.start). */
export const bindNamePattern = /^\.csi-(\d+)\.sock$/;

/**
 * The pid of a process holding the listening unix socket at `socketPath`, found through procfs;
 * undefined when it cannot be learnt (another pid namespace, no permission, two candidates).
 * /proc/net/unix lists a socket under the name it was bound to: a driver binds `.csi-<pid>.sock`
 * beside the endpoint and renames it, so one such listener in that directory names the pid;
 * any other server is found by its socket inode in the /proc/<pid>/fd links. Only procfs is
 * read: nothing here can hang.
 */
export async function socketOwnerPid(socketPath: string, procRoot = '/proc'): Promise<number | undefined> {
  const inodes = new Set<string>();
  const driverPids = new Set<number>();
  try {
    for (const line of (await readFile(`${procRoot}/net/unix`, 'utf8')).split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // Num RefCount Protocol Flags Type St Inode Path; Flags 00010000 is __SO_ACCEPTCON (listening).
      const bound = f[7];
      if (f[3] !== '00010000' || !bound || !f[6]) continue;
      if (bound === socketPath) inodes.add(f[6]);
      const m = bindNamePattern.exec(path.basename(bound));
      if (m?.[1] && path.dirname(bound) === path.dirname(socketPath)) driverPids.add(Number(m[1]));
    }
  } catch {
    return undefined;
  }
  driverPids.delete(process.pid);
  if (inodes.size === 0) return driverPids.size === 1 ? [...driverPids][0] : undefined;
  return pidHoldingSocket(inodes, procRoot);
}

async function pidHoldingSocket(inodes: Set<string>, procRoot: string): Promise<number | undefined> {
  let pids: string[];
  try {
    pids = (await readdir(procRoot)).filter((d) => /^\d+$/.test(d) && Number(d) !== process.pid);
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = await readdir(`${procRoot}/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      const link = await readlink(`${procRoot}/${pid}/fd/${fd}`).catch(() => '');
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (m?.[1] && inodes.has(m[1])) return Number(pid);
    }
  }
  return undefined;
}

/** Throws SocketInUseError when a server answers on the unix socket at `socketPath`; a dead or absent socket passes. */
export async function refuseLiveSocket(socketPath: string): Promise<void> {
  if (await socketAnswers(socketPath)) throw new SocketInUseError(socketPath, await socketOwnerPid(socketPath));
}
