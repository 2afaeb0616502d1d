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
  | { op: 'probe'; path: string; write: boolean; hiddenDir: string; delayMs?: number; requireMount?: boolean }
  | { op: 'probeBatch'; path: string; items: ProbeItem[] }
  | PinnedRequest;

/** One mount of a probe batch. */
export interface ProbeItem {
  path: string;
  write: boolean;
  hiddenDir: string;
  /** Never create the hidden directory unless `path` is (still) a mount point. */
  requireMount?: boolean;
}

export interface StatResult {
  isDirectory: boolean;
  isFile: boolean;
  size: number;
  mode: number;
  mtimeMs: number;
  dev: number;
}

export interface StatfsResult {
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
}

/** What one health probe saw; `failedStep` and `code` are set when a step failed. */
export interface ProbeResult {
  ok: boolean;
  failedStep?: 'stat' | 'lookup' | 'write' | 'fsync' | 'read' | 'compare' | 'delete' | 'statfs';
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
  probe: ProbeResult;
  probeBatch: Array<ProbeResult & { elapsedMs: number }>;
}

export type FsResult<R extends FsRequest> = FsResultMap[R['op']];

/** The wire message from the pool to a helper. */
export interface HelperRequest {
  id: number;
  req: FsRequest;
}

/** The wire message from a helper back to the pool. */
export type HelperReply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; code: string; message: string };
