/**
 * Entry point of a file helper process. It runs one request at a time with synchronous calls:
 * if the storage hangs, only this process hangs, and the pool kills it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { FsRequest, HelperReply, HelperRequest, ProbeResult, StatfsResult, StatResult } from './fsOps';
import { parseMountInfo } from '../mount/mountTable';
import { runPinned } from './pinnedMountOps';

function toStat(s: fs.Stats): StatResult {
  return {
    isDirectory: s.isDirectory(),
    isFile: s.isFile(),
    size: s.size,
    mode: s.mode,
    mtimeMs: s.mtimeMs,
    dev: s.dev,
  };
}

function toStatfs(s: fs.StatsFs): StatfsResult {
  return { bsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail, files: s.files, ffree: s.ffree };
}

function writeFileAtomic(file: string, data: string): null {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const fd = fs.openSync(tmp, 'w', 0o644);
  try {
    fs.writeSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  const dirFd = fs.openSync(path.dirname(file), 'r');
  try {
    fs.fsyncSync(dirFd);
  } finally {
    fs.closeSync(dirFd);
  }
  return null;
}

function errCode(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : 'EUNKNOWN';
}

/**
 * One health probe: a lookup of a name never used before (cached attributes of known names can
 * look fine during an outage), a stat of the root, a write-fsync-read-compare-delete round trip
 * on writable mounts, and statfs.
 */
const readBuf = Buffer.alloc(256);

/** The mount points, read at most once per request: a batch's first checks of fresh mounts all ask. */
let mountPoints: Set<string> | undefined;
function mountPointsNow(): Set<string> {
  mountPoints ??= new Set(parseMountInfo(fs.readFileSync('/proc/self/mountinfo', 'utf8')).map((e) => e.mountPoint));
  return mountPoints;
}

function probe(root: string, write: boolean, hiddenDir: string, delayMs: number, requireMount = false): ProbeResult {
  // Injected latency blocks this helper as slow storage would, so deadlines act for real.
  if (delayMs > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, delayMs);
  const token = randomBytes(12).toString('hex');
  let step: NonNullable<ProbeResult['failedStep']> = 'stat';
  try {
    fs.statSync(root);
    step = 'lookup';
    // throwIfNoEntry: ENOENT is the expected answer, and building an exception for it is costly.
    fs.lstatSync(path.join(root, `.csi-probe-lookup-${token}`), { throwIfNoEntry: false });
    if (write) {
      step = 'write';
      const dir = path.join(root, hiddenDir);
      const file = path.join(dir, `probe-${token}`);
      const payload = `csi-health-probe ${token}\n`;
      let fd: number;
      try {
        fd = fs.openSync(file, 'w', 0o600);
      } catch (err) {
        if (errCode(err) !== 'ENOENT') throw err;
        // A probe sent before an unmount may run after it: it must not leave its directory in the
        // bare mount point (the kubelet could not remove it). Rare, so the mount table is read here only.
        if (requireMount && !mountPointsNow().has(root)) {
          return { ok: false, failedStep: step, code: 'ENOTMOUNTED', message: `${root} is no longer a mount point` };
        }
        // One level, not recursive: a recursive mkdir reports ENOENT where the truth is EROFS.
        try {
          fs.mkdirSync(dir, { mode: 0o700 });
        } catch (mkErr) {
          if (errCode(mkErr) !== 'EEXIST') throw mkErr;
        }
        fd = fs.openSync(file, 'w', 0o600);
      }
      try {
        fs.writeSync(fd, payload);
        step = 'fsync';
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      step = 'read';
      // A fresh open (not the written fd) makes NFS revalidate (close-to-open) before the read.
      const rfd = fs.openSync(file, 'r');
      let back: string;
      try {
        const n = fs.readSync(rfd, readBuf, 0, readBuf.length, 0);
        back = readBuf.toString('utf8', 0, n);
      } finally {
        fs.closeSync(rfd);
      }
      if (back !== payload) {
        try {
          fs.unlinkSync(file);
        } catch {
          // the mismatch is what we report; a failed clean-up is secondary
        }
        return { ok: false, failedStep: 'compare', code: 'EMISMATCH', message: 'data read back differs from data written' };
      }
      step = 'delete';
      fs.unlinkSync(file);
    }
    step = 'statfs';
    return { ok: true, statfs: toStatfs(fs.statfsSync(root)) };
  } catch (err) {
    return { ok: false, failedStep: step, code: errCode(err), message: (err as Error).message };
  }
}

/**
 * The real path of `p`, or of its longest existing prefix with the rest appended: where the
 * path lands once made. A dangling symlink on the way is followed to where it points, as a
 * recursive mkdir would follow it.
 */
function realpathOfPrefix(p: string): string {
  const rest: string[] = [];
  let cur = p;
  for (let hops = 0; ; ) {
    try {
      return path.join(fs.realpathSync(cur), ...rest);
    } catch (err) {
      if (errCode(err) !== 'ENOENT' || cur === '/') throw err;
    }
    if (fs.lstatSync(cur, { throwIfNoEntry: false })?.isSymbolicLink()) {
      if (++hops > 40) throw Object.assign(new Error(`too many symbolic links in ${p}`), { code: 'ELOOP' });
      cur = path.resolve(path.dirname(cur), fs.readlinkSync(cur));
      continue;
    }
    rest.unshift(path.basename(cur));
    cur = path.dirname(cur);
  }
}

function run(req: FsRequest): unknown {
  switch (req.op) {
    case 'stat':
      return toStat(fs.statSync(req.path));
    case 'exists':
      try {
        fs.lstatSync(req.path);
        return true;
      } catch (err) {
        if (errCode(err) === 'ENOENT') return false;
        throw err;
      }
    case 'statfs':
      return toStatfs(fs.statfsSync(req.path));
    case 'mkdir':
      fs.mkdirSync(req.path, { recursive: true, mode: req.mode ?? 0o750 });
      return null;
    case 'readFile': {
      const st = fs.statSync(req.path);
      if (st.size > req.maxBytes) throw Object.assign(new Error(`${req.path} is larger than ${req.maxBytes} bytes`), { code: 'EFBIG' });
      return fs.readFileSync(req.path, 'utf8');
    }
    case 'writeFileAtomic':
      return writeFileAtomic(req.path, req.data);
    case 'rm':
      fs.rmSync(req.path, { recursive: true, force: true });
      return null;
    case 'rmdirIfEmpty':
      try {
        fs.rmdirSync(req.path);
        return true;
      } catch (err) {
        const code = errCode(err);
        if (code === 'ENOENT') return true;
        if (code === 'ENOTEMPTY' || code === 'EEXIST') return false;
        throw err;
      }
    case 'readdir':
      return fs.readdirSync(req.path);
    case 'realpath':
      return realpathOfPrefix(req.path);
    case 'probe':
      return probe(req.path, req.write, req.hiddenDir, req.delayMs ?? 0, req.requireMount);
    case 'pinnedInspect':
    case 'pinnedMount':
    case 'pinnedUnmount':
      return runPinned(req);
    case 'probeBatch':
      return req.items.map((item) => {
        const t0 = process.hrtime.bigint();
        const r = probe(item.path, item.write, item.hiddenDir, 0, item.requireMount);
        return { ...r, elapsedMs: Number(process.hrtime.bigint() - t0) / 1e6 };
      });
  }
}

process.on('message', (msg: HelperRequest) => {
  let reply: HelperReply;
  mountPoints = undefined;
  try {
    reply = { id: msg.id, ok: true, result: run(msg.req) };
  } catch (err) {
    reply = { id: msg.id, ok: false, code: errCode(err), message: (err as Error).message };
  }
  process.send?.(reply);
});
process.on('disconnect', () => process.exit(0));
process.send?.({ ready: true });
