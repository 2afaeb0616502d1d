import type { BigIntStatsFs, Stats } from 'node:fs';
import type { StatfsResult, StatResult } from './fsOps';

/** The parts of a stat that cross the process boundary. */
export function toStat(s: Stats): StatResult {
  return { isDirectory: s.isDirectory(), isFile: s.isFile(), size: s.size, mode: s.mode, mtimeMs: s.mtimeMs, dev: s.dev };
}

/** The parts of a statfs that cross the process boundary: read as bigint, carried as exact decimal strings. */
export function toStatfs(s: BigIntStatsFs): StatfsResult {
  return {
    bsize: String(s.bsize),
    blocks: String(s.blocks),
    bfree: String(s.bfree),
    bavail: String(s.bavail),
    files: String(s.files),
    ffree: String(s.ffree),
  };
}
