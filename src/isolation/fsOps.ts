import type { PinnedRequest, PinnedResultMap } from './pinnedTypes';

/**
 * The file operations a helper process performs on behalf of the driver. They are the only
 * way the driver touches a path that may sit on unresponsive storage (a share, a staging or
 * target path), so the types here are shared by the helper and the pool.
 */
export type FsRequest =
  | { op: 'stat'; path: string }
  | { op: 'exists'; path: string }
  | { op: 'statfs'; path: string }
  | { op: 'mkdir'; path: string; mode?: number }
  | { op: 'readFile'; path: string; maxBytes: number }
  | { op: 'writeFileAtomic'; path: string; data: string }
  | { op: 'rm'; path: string }
  | { op: 'rmdirIfEmpty'; path: string }
  | { op: 'readdir'; path: string }
  /** Where a path lands, symlinks resolved; for a path not (yet) there, where it would land once made. */
  | { op: 'realpath'; path: string }
  /**
   * Health probes of many mounts at once, concurrently inside one helper: each result is sent as
   * soon as it is known, so a hung mount delays nobody else's. `path` names the round in logs.
   */
  | {
      op: 'probeMany';
      path: string;
      items: ProbeItem[];
      /** Calm items go one at a time to a thread first; what it has not started when it stalls this long goes to the pool (probeRunner.ts). */
      stallMs?: number;
    }
  | TreeCopyRequest
  | TreeRemoveRequest
  | PinnedRequest
  | BatchRequest;

/** The operations a batch may chain: the plain ones, answered at once. */
export type BatchableRequest = Exclude<FsRequest, { op: 'probeMany' | 'batch' } | PinnedRequest>;

/**
 * Several operations run in order by one helper: one round trip where a CSI call needs a few
 * touches of the share (make a volume and register it). The first failure of a step not told to
 * `tolerate` its error code ends the batch with that error; a tolerated failure is an outcome and
 * the batch goes on. A step may run only if earlier outcomes say so (`onlyIf`): a write that is
 * right only when a read found nothing joins the read's round trip. The whole batch has the
 * request's one deadline.
 */
export interface BatchRequest {
  op: 'batch';
  /** What the batch does, for logs and errors. */
  path: string;
  steps: BatchStep[];
}

/** One step of a batch. */
export interface BatchStep {
  req: BatchableRequest;
  /** Error codes that are an outcome of this step rather than the end of the batch; `all`: any error. */
  tolerate?: string[] | 'all';
  /**
   * What earlier steps must have found for this one to run. When one does not hold, the batch
   * ends before this step, with no error: its answer is the shorter list of outcomes.
   */
  onlyIf?: StepCondition[];
}

/** A fact about an earlier step's outcome (`step` is its index in the batch). */
export type StepCondition =
  /** It failed, with one of these codes (a tolerated failure: say, the file is not there). */
  | { step: number; failedWith: string[] }
  /** It answered this yes or no (an `exists`). */
  | { step: number; answered: boolean }
  /** It was a statfs of a filesystem of at least this many bytes (a decimal string). */
  | { step: number; totalBytesAtLeast: string };

/** One step's outcome in a batch: its result, or the tolerated error. */
export type BatchOutcome = { ok: true; value: unknown } | { ok: false; code: string; message: string };

/** Bounds of a tree walk (the time bound is the request's deadline). */
export interface TreeLimits {
  /** Entries looked at, revisits included. */
  maxEntries: number;
  /** Directory levels below the tree's root. */
  maxDepth: number;
}

/**
 * Copies the tree at `root`/`from` into the existing, empty directory `root`/`to`, walking both
 * through pinned directory handles without following any symlink (see pinnedTree.ts).
 * `root` is trusted; the components of `from` and `to` are opened without following symlinks.
 * `path` names the source in errors.
 */
export interface TreeCopyRequest {
  op: 'treeCopy';
  path: string;
  root: string;
  from: string[];
  to: string[];
  /** Names left out at the top of the source. */
  exclude?: string[];
  limits?: Partial<TreeLimits>;
}

/** Removes the tree at `root`/`rel` (gone already is fine), never acting outside it. */
export interface TreeRemoveRequest {
  op: 'treeRemove';
  path: string;
  root: string;
  rel: string[];
  limits?: Partial<TreeLimits>;
}

export interface TreeCopyResult {
  /** Directories, files and symlinks copied. */
  copied: number;
  /** Special files (devices, fifos, sockets) and mount points inside the tree, left out. */
  skipped: number;
}

/** One mount of a probe round. */
export interface ProbeItem {
  path: string;
  write: boolean;
  /** Name of the driver's own directory in the mount root where the write check works. */
  hiddenDir: string;
  /** Never create the hidden directory unless `path` is (still) a mount point. */
  requireMount?: boolean;
  /**
   * The id of the mount at `path` in the driver's copy of the mount table. A root on that mount
   * needs no further check; on any other, the probe reads the table itself (the copy may be
   * older than a remount) before it reports a wrong or missing mount.
   */
  mountId?: number;
  /** Injected latency (fault API): the probe waits this long first, as slow storage would. */
  delayMs?: number;
  /** Remove leftovers of earlier probes (after a failed or killed one). */
  sweep?: boolean;
}

export interface StatResult {
  isDirectory: boolean;
  isFile: boolean;
  size: number;
  mode: number;
  mtimeMs: number;
  dev: number;
}

/**
 * statfs figures as exact decimal strings: block counts times block size pass 2^53 on large
 * shares (EFS reports about 8 EiB), so they are read as bigint and cross IPC as text.
 */
export interface StatfsResult {
  bsize: string;
  blocks: string;
  bfree: string;
  bavail: string;
  files: string;
  ffree: string;
}

/** What one health probe saw; `failedStep` and `code` are set when a step failed. */
export interface ProbeResult {
  ok: boolean;
  failedStep?: 'stat' | 'lookup' | 'probeDir' | 'write' | 'fsync' | 'read' | 'compare' | 'delete' | 'statfs';
  code?: string;
  message?: string;
  statfs?: StatfsResult;
}

export interface FsResultMap extends PinnedResultMap {
  stat: StatResult;
  exists: boolean;
  statfs: StatfsResult;
  mkdir: null;
  readFile: string;
  writeFileAtomic: null;
  rm: null;
  rmdirIfEmpty: boolean;
  readdir: string[];
  realpath: string;
  /** Results arrive one by one as partial replies (see HelperReply); the final reply carries none. */
  probeMany: null;
  treeCopy: TreeCopyResult;
  treeRemove: { removed: number };
  batch: BatchOutcome[];
}

export type FsResult<R extends FsRequest> = FsResultMap[R['op']];

/** The wire message from the pool to a helper. */
export interface HelperRequest {
  id: number;
  req: FsRequest;
}

/** The wire message from a helper back to the pool. */
export type HelperReply =
  | { id: number; partial: true; answers: PartialAnswers }
  | { id: number; ok: true; result: unknown }
  /** A failure; a batch names the step that failed in `op` and `path`. */
  | { id: number; ok: false; code: string; message: string; op?: string; path?: string };

/** What one mount's probe in a round reports, with the time it took in the helper. */
/** Answers of a probe round still open, by position in the round: sent a few at a time. */
export type PartialAnswers = Array<[index: number, result: unknown]>;

/** A probe's answer with its own duration; `calm` when the one-at-a-time thread ran it. */
export type TimedProbeResult = ProbeResult & { elapsedMs: number; calm?: true };
