/**
 * Entry point of a file helper process. It runs one request at a time with synchronous calls:
 * if the storage hangs, only this process hangs, and the pool kills it. A probe round is the
 * exception: its probes run at once on this process's thread pool (see probeRunner).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BatchOutcome, BatchRequest, FsRequest, HelperReply, HelperRequest } from './fsOps';
import { runProbeRound } from './probeRunner';
import { answerBatcher } from './answerBatcher';
import { toStat, toStatfs } from './statShapes';
import { copyTree, removeTree } from './pinnedTree';
import { runPinned } from './pinnedMountOps';
import { writeFileAtomic } from './writeFileAtomic';
import { stepConditionHolds } from './stepConditionHolds';

/** How long a probe answer may wait to travel with others. */
const answerFlushMs = 10;

function errCode(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : 'EUNKNOWN';
}

/**
 * The real path of `p`, or of its longest existing prefix with the rest appended: where the
 * path lands once made. A dangling symlink on the way is followed to where it points, as a
 * recursive mkdir would follow it.
 */
function realpathOfPrefix(p: string): string {
  const rest: string[] = [];
  let cur = p;
  for (let hops = 0; ;) {
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
      return toStatfs(fs.statfsSync(req.path, { bigint: true }));
    case 'mkdir':
      fs.mkdirSync(req.path, { recursive: true, mode: req.mode ?? 0o750 });
      return null;
    case 'readFile': {
      const st = fs.statSync(req.path);
      if (st.size > req.maxBytes) throw Object.assign(new Error(`${req.path} is larger than ${req.maxBytes} bytes`), { code: 'EFBIG' });
      return fs.readFileSync(req.path, 'utf8');
    }
    case 'writeFileAtomic':
      writeFileAtomic(req.path, req.data);
      return null;
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
    case 'probeMany':
      throw new Error('probeMany is answered asynchronously');
    case 'treeCopy':
      return copyTree(req);
    case 'treeRemove':
      return removeTree(req);
    case 'pinnedInspect':
    case 'pinnedMount':
    case 'pinnedUnmount':
      return runPinned(req);
    case 'batch':
      return runBatch(req);
  }
}

/**
 * Runs a batch's steps in order; a step's error ends it unless the step tolerates that code, and
 * a step whose conditions do not hold ends it with the outcomes so far.
 */
function runBatch(req: BatchRequest): BatchOutcome[] {
  const outcomes: BatchOutcome[] = [];
  for (const step of req.steps) {
    if ((step.req.op as string) === 'batch' || (step.req.op as string) === 'probeMany' || step.req.op.startsWith('pinned'))
      throw Object.assign(new Error(`${step.req.op} cannot be a step of a batch`), { code: 'EINVAL' });
    if (step.onlyIf !== undefined && !Array.isArray(step.onlyIf))
      throw Object.assign(new Error('the conditions of a batch step are not a list'), { code: 'EINVAL' });
    // Every condition is checked, so that a malformed one is an error whatever the others say.
    if (step.onlyIf && !step.onlyIf.map((cond) => stepConditionHolds(cond, outcomes)).every(Boolean)) return outcomes;
    try {
      outcomes.push({ ok: true, value: run(step.req) });
    } catch (err) {
      const code = errCode(err);
      if (step.tolerate !== 'all' && !step.tolerate?.includes(code))
        throw Object.assign(err as Error, { step: { op: step.req.op, path: step.req.path } });
      outcomes.push({ ok: false, code, message: (err as Error).message });
    }
  }
  return outcomes;
}

process.on('message', (msg: HelperRequest) => {
  let reply: HelperReply;
  if (msg.req.op === 'probeMany') {
    const send = (r: HelperReply): void => void process.send?.(r);
    const answers = answerBatcher((batch) => send({ id: msg.id, partial: true, answers: batch }), answerFlushMs);
    runProbeRound(msg.req.items, (index, result) => answers.add(index, result), msg.req.stallMs).then(
      () => {
        answers.flush();
        send({ id: msg.id, ok: true, result: null });
      },
      (err: unknown) => {
        answers.flush();
        send({ id: msg.id, ok: false, code: errCode(err), message: (err as Error).message });
      },
    );
    return;
  }
  try {
    reply = { id: msg.id, ok: true, result: run(msg.req) };
  } catch (err) {
    const step = (err as { step?: { op: string; path: string } }).step;
    reply = { id: msg.id, ok: false, code: errCode(err), message: (err as Error).message, ...step };
  }
  process.send?.(reply);
});
process.on('disconnect', () => process.exit(0));
process.send?.({ ready: true });
