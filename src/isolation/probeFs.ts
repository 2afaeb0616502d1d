/**
 * The file calls a health probe makes, on numeric descriptors, in two forms: synchronous (one
 * thread runs a whole probe, no thread-pool hop per call) and asynchronous (each call on the
 * libuv pool, so a call that hangs holds one thread only). The probe is written once against
 * this interface (probeItem.ts); which form runs it is the round's choice (probeRunner.ts).
 */
import * as fs from 'node:fs';
import { promisify } from 'node:util';
import type { BigIntStatsFs } from 'node:fs';

/** What a probe needs of a stat. */
export interface ProbeStat {
  isDirectory(): boolean;
  uid: number;
  mode: number;
}

/** Each call returns its value, or a promise of it (`await` takes both). */
export interface ProbeFs {
  open(path: string, flags: number, mode?: number): number | Promise<number>;
  close(fd: number): void | Promise<void>;
  fstat(fd: number): ProbeStat | Promise<ProbeStat>;
  /** lstat that answers undefined for a missing name rather than throwing: a probe looks up names that never exist. */
  lstat(path: string): unknown;
  mkdir(path: string, mode: number): unknown;
  rename(from: string, to: string): void | Promise<void>;
  readdir(path: string): string[] | Promise<string[]>;
  unlink(path: string): void | Promise<void>;
  write(fd: number, data: string): unknown;
  fsync(fd: number): void | Promise<void>;
  read(fd: number, buf: Buffer): number | Promise<number>;
  statfs(path: string): BigIntStatsFs | Promise<BigIntStatsFs>;
}

/** Synchronous calls: cheap, and the calling thread blocks with a hung mount. */
export const syncProbeFs: ProbeFs = {
  open: (p, flags, mode) => fs.openSync(p, flags, mode),
  close: (fd) => fs.closeSync(fd),
  fstat: (fd) => fs.fstatSync(fd),
  lstat: (p) => fs.lstatSync(p, { throwIfNoEntry: false }),
  mkdir: (p, mode) => fs.mkdirSync(p, { mode }),
  rename: (a, b) => fs.renameSync(a, b),
  readdir: (p) => fs.readdirSync(p),
  unlink: (p) => fs.unlinkSync(p),
  write: (fd, data) => fs.writeSync(fd, data),
  fsync: (fd) => fs.fsyncSync(fd),
  read: (fd, buf) => fs.readSync(fd, buf, 0, buf.length, 0),
  statfs: (p) => fs.statfsSync(p, { bigint: true }),
};

const openAsync = promisify(fs.open);
const closeAsync = promisify(fs.close);
const fstatAsync = promisify(fs.fstat);
const lstatAsync = promisify(fs.lstat);
const mkdirAsync = promisify(fs.mkdir);
const renameAsync = promisify(fs.rename);
const readdirAsync = promisify(fs.readdir);
const unlinkAsync = promisify(fs.unlink);
const fsyncAsync = promisify(fs.fsync);
const writeAsync = (fd: number, data: string): Promise<number> =>
  new Promise((resolve, reject) => fs.write(fd, data, (err, n) => (err ? reject(err) : resolve(n))));
const readAsync = (fd: number, buf: Buffer): Promise<number> =>
  new Promise((resolve, reject) => fs.read(fd, buf, 0, buf.length, 0, (err, n) => (err ? reject(err) : resolve(n))));
const statfsAsync = (p: string): Promise<BigIntStatsFs> =>
  new Promise((resolve, reject) => fs.statfs(p, { bigint: true }, (err, s) => (err ? reject(err) : resolve(s))));

/** Asynchronous calls on the libuv pool (callbacks: lighter than FileHandle objects). */
export const asyncProbeFs: ProbeFs = {
  open: (p, flags, mode) => openAsync(p, flags, mode),
  close: (fd) => closeAsync(fd),
  fstat: (fd) => fstatAsync(fd),
  lstat: (p) =>
    lstatAsync(p).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    }),
  mkdir: (p, mode) => mkdirAsync(p, { mode }),
  rename: (a, b) => renameAsync(a, b),
  readdir: (p) => readdirAsync(p),
  unlink: (p) => unlinkAsync(p),
  write: writeAsync,
  fsync: (fd) => fsyncAsync(fd),
  read: readAsync,
  statfs: statfsAsync,
};
