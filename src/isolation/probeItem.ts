/**
 * One mount's health probe, written once against ProbeFs (probeFs.ts) so that it runs with
 * synchronous or asynchronous calls alike.
 *
 * A probe touches a volume that pods write, so it never follows what a pod could have put
 * there: the mount root is checked to be the mount the table names (mount id from fdinfo), and
 * everything below it is reached through pinned directory descriptors with O_NOFOLLOW.
 */
import { closeSync, constants as C, openSync, readSync } from 'node:fs';
import { createHash, randomBytes, randomFillSync } from 'node:crypto';
import type { ProbeItem, ProbeResult } from './fsOps';
import type { ProbeFs, ProbeStat } from './probeFs';
import { toStatfs } from './statShapes';
import type { MountIdLookup } from './mountIdLookup';

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

const fdinfo = Buffer.alloc(1024);

/** The mount a descriptor is on. fdinfo is the kernel's own record: reading it never reaches the storage. */
function mountIdOf(fd: number): number | undefined {
  const info = openSync(`/proc/self/fdinfo/${fd}`, C.O_RDONLY);
  let n: number;
  try {
    n = readSync(info, fdinfo, 0, fdinfo.length, 0);
  } finally {
    closeSync(info);
  }
  const m = /^mnt_id:\s*(\d+)/m.exec(fdinfo.toString('latin1', 0, n));
  return m ? Number(m[1]) : undefined;
}

/** Random bytes drawn ahead in bulk: one call to the system's generator per 128 probes, not one per probe. */
const randomPool = Buffer.alloc(12 * 128);
let randomUsed = randomPool.length;

/** A fresh random token for one probe's file name and content. */
function probeToken(): string {
  if (randomUsed + 12 > randomPool.length) {
    randomFillSync(randomPool);
    randomUsed = 0;
  }
  randomUsed += 12;
  return randomPool.toString('hex', randomUsed - 12, randomUsed);
}

/** The path through which a pinned directory and a name in it are reached, whatever moved since. */
const inPinned = (dirFd: number, name: string): string => `/proc/self/fd/${dirFd}/${name}`;

/** Whether the driver made this directory: a directory of ours, closed to everyone else. */
function isOurs(st: ProbeStat): boolean {
  return st.isDirectory() && st.uid === (process.getuid?.() ?? 0) && (st.mode & 0o077) === 0;
}

/**
 * Opens the driver's probe directory in the mount root without following anything. Something
 * else under its name (a pod's symlink, file or directory) is moved out of the way, never
 * followed, and reported once as ETAMPERED after the directory was made afresh.
 */
async function openProbeDir(fsx: ProbeFs, rootFd: number, name: string): Promise<{ dirFd: number; tampered?: string }> {
  const where = inPinned(rootFd, name);
  let tampered: string | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    let dirFd: number | undefined;
    try {
      dirFd = await fsx.open(where, pinnedDirFlags);
      if (isOurs(await fsx.fstat(dirFd))) return { dirFd, ...(tampered ? { tampered } : {}) };
      await fsx.close(dirFd);
      dirFd = undefined;
      tampered = `${name} in the volume root is a directory the driver did not make`;
    } catch (err) {
      if (dirFd !== undefined) await closeQuietly(fsx, dirFd);
      const code = errCode(err);
      if (code === 'ENOENT') {
        try {
          await fsx.mkdir(where, 0o700);
        } catch (mkErr) {
          if (errCode(mkErr) !== 'EEXIST') throw new StepError('probeDir', errCode(mkErr), (mkErr as Error).message);
        }
        continue;
      }
      if (code !== 'ELOOP' && code !== 'ENOTDIR') throw new StepError('probeDir', code, (err as Error).message);
      tampered = `${name} in the volume root was replaced (${code === 'ELOOP' ? 'a symlink' : 'not a directory'})`;
    }
    // Moved aside, not deleted: what a pod put there is its data. rename never follows the name.
    try {
      await fsx.rename(where, inPinned(rootFd, `${name}.displaced-${randomBytes(4).toString('hex')}`));
    } catch (err) {
      throw new StepError('probeDir', errCode(err), `${tampered ?? name}: could not move it aside: ${(err as Error).message}`);
    }
  }
  throw new StepError('probeDir', 'ETAMPERED', `${tampered ?? name} keeps changing`);
}

async function closeQuietly(fsx: ProbeFs, fd: number): Promise<void> {
  try {
    await fsx.close(fd);
  } catch {
    // Already gone or failing: nothing more to do with it.
  }
}

async function unlinkQuietly(fsx: ProbeFs, p: string): Promise<void> {
  try {
    await fsx.unlink(p);
  } catch {
    // Gone already, or the storage fails: the next sweep tries again.
  }
}

/**
 * The probe files of one mount point start with a tag of its path. The staging mount and every
 * publish target of a volume are mounts of one directory and share the probe directory, and
 * they may be probed at the same moment; a mount point is never probed twice at once.
 */
const prefixes = new Map<string, string>();

export function probeFilePrefixOf(mountPath: string): string {
  let prefix = prefixes.get(mountPath);
  if (prefix === undefined) {
    prefix = `${probeFilePrefix}${createHash('sha256').update(mountPath).digest('hex').slice(0, 12)}-`;
    // A helper probes the same mounts round after round; bounded all the same.
    if (prefixes.size >= 4096) prefixes.clear();
    prefixes.set(mountPath, prefix);
  }
  return prefix;
}

/** A probe file of a driver version that did not tag them: nobody probes with those any more. */
const untagged = /^probe-[0-9a-f]{24}$/;

/**
 * Removes the files that earlier probes of this mount point left (a killed helper cannot clean
 * up after itself); those of other mount points of the same volume may be in use right now.
 */
async function sweep(fsx: ProbeFs, dirFd: number, own: string): Promise<void> {
  for (const name of await fsx.readdir(`/proc/self/fd/${dirFd}`)) {
    if (name.startsWith(own) || untagged.test(name)) await unlinkQuietly(fsx, inPinned(dirFd, name));
  }
}

/** The write check: create, write, fsync, read back through a fresh open, compare, delete. */
async function writeCheck(
  fsx: ProbeFs,
  dirFd: number,
  name: string,
  token: string,
  setStep: (s: Step) => void,
): Promise<ProbeResult | undefined> {
  const file = inPinned(dirFd, name);
  const payload = `csi-health-probe ${token}\n`;
  setStep('write');
  const w = await fsx.open(file, newFileFlags, 0o600);
  let done = false;
  try {
    try {
      await fsx.write(w, payload);
      setStep('fsync');
      await fsx.fsync(w);
    } finally {
      await fsx.close(w);
    }
    setStep('read');
    // A fresh open (not the written fd) makes NFS revalidate (close-to-open) before the read.
    const r = await fsx.open(file, C.O_RDONLY | C.O_NOFOLLOW);
    let back: string;
    // One buffer per probe: the probes of a round may run at once.
    const readBack = Buffer.alloc(256);
    try {
      back = readBack.toString('utf8', 0, await fsx.read(r, readBack));
    } finally {
      await fsx.close(r);
    }
    if (back !== payload)
      return { ok: false, failedStep: 'compare', code: 'EMISMATCH', message: 'data read back differs from data written' };
    setStep('delete');
    await fsx.unlink(file);
    done = true;
    return undefined;
  } finally {
    // A failed probe leaves no file behind (a full share, a read error...).
    if (!done) await unlinkQuietly(fsx, file);
  }
}

/**
 * One mount's probe: the root is the mount the table names; a lookup of a name never used
 * before (cached attributes of known names can look fine during an outage); on writable mounts
 * a write round trip in the driver's own directory; statfs.
 */
export async function probeItem(item: ProbeItem, mountIds: MountIdLookup, fsx: ProbeFs): Promise<ProbeResult> {
  if (item.delayMs && item.delayMs > 0) await sleep(item.delayMs);
  const token = probeToken();
  let step: Step = 'stat';
  let rootFd: number | undefined;
  let dirFd: number | undefined;
  try {
    // Opening a directory read-only writes nothing, even where the mount has gone.
    rootFd = await fsx.open(item.path, dirFlags);
    const actual = mountIdOf(rootFd);
    if (item.mountId === undefined || actual !== item.mountId) {
      const expected = mountIds.get(item.path);
      // A probe sent before an unmount may run after it: it must not write into the bare directory.
      if (item.requireMount && expected === undefined)
        return { ok: false, failedStep: step, code: 'ENOTMOUNTED', message: `${item.path} is no longer a mount point` };
      if (expected !== undefined && actual !== expected) {
        return {
          ok: false,
          failedStep: step,
          code: 'EWRONGMOUNT',
          message: `${item.path} no longer leads to its own mount (a directory on the way was replaced)`,
        };
      }
    }
    await fsx.fstat(rootFd);
    step = 'lookup';
    // A name never used before: the server must answer (cached attributes of known names can look fine during an outage).
    await fsx.lstat(inPinned(rootFd, `.csi-probe-lookup-${token}`));
    let tampered: string | undefined;
    if (item.write) {
      step = 'probeDir';
      const opened = await openProbeDir(fsx, rootFd, item.hiddenDir);
      dirFd = opened.dirFd;
      tampered = opened.tampered;
      const own = probeFilePrefixOf(item.path);
      if (item.sweep) await sweep(fsx, dirFd, own);
      const failed = await writeCheck(fsx, dirFd, `${own}${token}`, token, (s) => (step = s));
      if (failed) return failed;
    }
    step = 'statfs';
    const statfs = toStatfs(await fsx.statfs(`/proc/self/fd/${rootFd}`));
    if (tampered)
      return { ok: false, failedStep: 'probeDir', code: 'ETAMPERED', message: `${tampered}; moved aside and made afresh`, statfs };
    return { ok: true, statfs };
  } catch (err) {
    if (err instanceof StepError) return { ok: false, failedStep: err.step, code: err.code, message: err.message };
    return { ok: false, failedStep: step, code: errCode(err), message: (err as Error).message };
  } finally {
    if (dirFd !== undefined) await closeQuietly(fsx, dirFd);
    if (rootFd !== undefined) await closeQuietly(fsx, rootFd);
  }
}
