/**
 * The helper side of a probe round. Every mount's probe runs at once on the helper's own
 * thread pool (sized for a whole round), so a hung mount holds one thread and nobody else's
 * answer: each result is sent the moment it is known, and the pool kills the helper at the
 * round's deadline to free the threads that never came back.
 *
 * A probe touches a volume that pods write, so it never follows what a pod could have put
 * there: the mount root is checked to be the mount the table names (mount id from fdinfo), and
 * everything below it is reached through pinned directory descriptors with O_NOFOLLOW.
 */
import { constants as C, promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import type { ProbeItem, ProbeResult, TimedProbeResult } from './fsOps';
import { parseMountInfo } from '../mount/mountTable';
import { toStatfs } from './statShapes';

const dirFlags = C.O_RDONLY | C.O_DIRECTORY;
const pinnedDirFlags = dirFlags | C.O_NOFOLLOW;
const newFileFlags = C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW;
const probeFilePrefix = 'probe-';

type Step = NonNullable<ProbeResult['failedStep']>;

/** A failed step with its errno name; what probeItem turns into a result. */
class StepError extends Error {
  constructor(
    readonly step: Step,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function errCode(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : 'EUNKNOWN';
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Mount point -> id of the top-most mount there, read once per round. */
export async function readMountIds(): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  // Later lines are mounted on top of earlier ones at the same point.
  for (const e of parseMountInfo(await fsp.readFile('/proc/self/mountinfo', 'utf8'))) ids.set(e.mountPoint, e.mountId);
  return ids;
}

async function mountIdOf(fd: number): Promise<number | undefined> {
  const m = /^mnt_id:\s*(\d+)/m.exec(await fsp.readFile(`/proc/self/fdinfo/${fd}`, 'utf8'));
  return m ? Number(m[1]) : undefined;
}

/** The path through which a pinned directory and a name in it are reached, whatever moved since. */
const inPinned = (dir: FileHandle, name: string): string => `/proc/self/fd/${dir.fd}/${name}`;

/** Whether the driver made this directory: a directory of ours, closed to everyone else. */
function isOurs(st: { isDirectory(): boolean; uid: number; mode: number }): boolean {
  return st.isDirectory() && st.uid === (process.getuid?.() ?? 0) && (st.mode & 0o077) === 0;
}

/**
 * Opens the driver's probe directory in the mount root without following anything. Something
 * else under its name (a pod's symlink, file or directory) is moved out of the way, never
 * followed, and reported once as ETAMPERED after the directory was made afresh.
 */
async function openProbeDir(root: FileHandle, name: string): Promise<{ dir: FileHandle; tampered?: string }> {
  const where = inPinned(root, name);
  let tampered: string | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    let dir: FileHandle | undefined;
    try {
      dir = await fsp.open(where, pinnedDirFlags);
      if (isOurs(await dir.stat())) return { dir, ...(tampered ? { tampered } : {}) };
      await dir.close();
      dir = undefined;
      tampered = `${name} in the volume root is a directory the driver did not make`;
    } catch (err) {
      await dir?.close();
      const code = errCode(err);
      if (code === 'ENOENT') {
        try {
          await fsp.mkdir(where, { mode: 0o700 });
        } catch (mkErr) {
          if (errCode(mkErr) !== 'EEXIST') throw new StepError('probeDir', errCode(mkErr), (mkErr as Error).message);
        }
        continue;
      }
      if (code !== 'ELOOP' && code !== 'ENOTDIR') throw new StepError('probeDir', code, (err as Error).message);
      tampered = `${name} in the volume root was replaced (${code === 'ELOOP' ? 'a symlink' : 'not a directory'})`;
    }
    // Moved aside, not deleted: what a pod put there is its data. rename never follows the name.
    await fsp.rename(where, inPinned(root, `${name}.displaced-${randomBytes(4).toString('hex')}`)).catch((err: unknown) => {
      throw new StepError('probeDir', errCode(err), `${tampered ?? name}: could not move it aside: ${(err as Error).message}`);
    });
  }
  throw new StepError('probeDir', 'ETAMPERED', `${tampered ?? name} keeps changing`);
}

/** Removes files that earlier probes left (a killed helper cannot clean up after itself). */
async function sweep(dir: FileHandle): Promise<void> {
  for (const name of await fsp.readdir(`/proc/self/fd/${dir.fd}`)) {
    if (name.startsWith(probeFilePrefix)) await fsp.unlink(inPinned(dir, name)).catch(() => undefined);
  }
}

/** The write check: create, write, fsync, read back through a fresh open, compare, delete. */
async function writeCheck(dir: FileHandle, token: string, setStep: (s: Step) => void): Promise<ProbeResult | undefined> {
  const file = inPinned(dir, `${probeFilePrefix}${token}`);
  const payload = `csi-health-probe ${token}\n`;
  setStep('write');
  const w = await fsp.open(file, newFileFlags, 0o600);
  let done = false;
  try {
    try {
      await w.write(payload);
      setStep('fsync');
      await w.sync();
    } finally {
      await w.close();
    }
    setStep('read');
    // A fresh open (not the written fd) makes NFS revalidate (close-to-open) before the read.
    const r = await fsp.open(file, C.O_RDONLY | C.O_NOFOLLOW);
    let back: string;
    // One buffer per probe: the probes of a round run at once.
    const readBack = Buffer.alloc(256);
    try {
      const { bytesRead } = await r.read(readBack, 0, readBack.length, 0);
      back = readBack.toString('utf8', 0, bytesRead);
    } finally {
      await r.close();
    }
    if (back !== payload)
      return { ok: false, failedStep: 'compare', code: 'EMISMATCH', message: 'data read back differs from data written' };
    setStep('delete');
    await fsp.unlink(file);
    done = true;
    return undefined;
  } finally {
    // A failed probe leaves no file behind (a full share, a read error...).
    if (!done) await fsp.unlink(file).catch(() => undefined);
  }
}

/**
 * One mount's probe: the root is the mount the table names; a lookup of a name never used
 * before (cached attributes of known names can look fine during an outage); on writable mounts
 * a write round trip in the driver's own directory; statfs.
 */
export async function probeItem(item: ProbeItem, mountIds: Map<string, number>): Promise<ProbeResult> {
  if (item.delayMs && item.delayMs > 0) await sleep(item.delayMs);
  const token = randomBytes(12).toString('hex');
  let step: Step = 'stat';
  let root: FileHandle | undefined;
  let dir: FileHandle | undefined;
  try {
    const expected = mountIds.get(item.path);
    // A probe sent before an unmount may run after it: it must not write into the bare directory.
    if (item.requireMount && expected === undefined)
      return { ok: false, failedStep: step, code: 'ENOTMOUNTED', message: `${item.path} is no longer a mount point` };
    root = await fsp.open(item.path, dirFlags);
    if (expected !== undefined && (await mountIdOf(root.fd)) !== expected) {
      return {
        ok: false,
        failedStep: step,
        code: 'EWRONGMOUNT',
        message: `${item.path} no longer leads to its own mount (a directory on the way was replaced)`,
      };
    }
    await root.stat();
    step = 'lookup';
    await fsp.lstat(inPinned(root, `.csi-probe-lookup-${token}`)).catch((err: unknown) => {
      if (errCode(err) !== 'ENOENT') throw err;
    });
    let tampered: string | undefined;
    if (item.write) {
      step = 'probeDir';
      const opened = await openProbeDir(root, item.hiddenDir);
      dir = opened.dir;
      tampered = opened.tampered;
      if (item.sweep) await sweep(dir);
      const failed = await writeCheck(dir, token, (s) => (step = s));
      if (failed) return failed;
    }
    step = 'statfs';
    const statfs = toStatfs(await fsp.statfs(`/proc/self/fd/${root.fd}`, { bigint: true }));
    if (tampered)
      return { ok: false, failedStep: 'probeDir', code: 'ETAMPERED', message: `${tampered}; moved aside and made afresh`, statfs };
    return { ok: true, statfs };
  } catch (err) {
    if (err instanceof StepError) return { ok: false, failedStep: err.step, code: err.code, message: err.message };
    return { ok: false, failedStep: step, code: errCode(err), message: (err as Error).message };
  } finally {
    await dir?.close().catch(() => undefined);
    await root?.close().catch(() => undefined);
  }
}

/** Probes every item at once and hands each result over as soon as it is known. */
export async function runProbeRound(items: ProbeItem[], send: (index: number, result: TimedProbeResult) => void): Promise<void> {
  const mountIds = await readMountIds();
  await Promise.all(
    items.map(async (item, index) => {
      const t0 = process.hrtime.bigint();
      const r = await probeItem(item, mountIds);
      send(index, { ...r, elapsedMs: Number(process.hrtime.bigint() - t0) / 1e6 });
    }),
  );
}
