import type { Stats, StatsFs } from 'node:fs';
import type { StatfsResult, StatResult } from './fsOps';

/** The parts of a stat that cross the process boundary. */
export function toStat(s: Stats): StatResult {
  return { isDirectory: s.isDirectory(), isFile: s.isFile(), size: s.size, mode: s.mode, mtimeMs: s.mtimeMs, dev: s.dev };
}

/** The parts of a statfs that cross the process boundary. */
export function toStatfs(s: StatsFs): StatfsResult {
  return { bsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail, files: s.files, ffree: s.ffree };
}
