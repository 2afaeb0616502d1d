import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { mountBindfs, type BindfsMount } from './bindfs';

const run = promisify(execFile);

/**
 * How frozen storage is laid out: every hung volume on its own FUSE daemon, or all of them
 * behind one daemon, as the mounts of one NFS server are.
 */
export type OutageVariant = 'per-volume' | 'one-server';
export const outageVariants: readonly OutageVariant[] = ['per-volume', 'one-server'];

/**
 * FUSE storage under volumes' data directories on the local backend's share, whose daemons the
 * caller freezes (SIGSTOP) at once: every mount staged or published from a covered volume then
 * hangs, as when the NFS server stops answering.
 */
export interface FrozenStorage {
  readonly variant: OutageVariant;
  /** Covers a created volume's data directory with FUSE storage; call it before NodeStageVolume. */
  cover(volumeId: string): Promise<void>;
  /** The FUSE daemons' pids. */
  daemonPids(): number[];
  freeze(): void;
  thaw(): void;
  /** Thaws, lazily unmounts what it mounted and ends its daemons; safe to call twice. */
  dispose(): Promise<void>;
}

const dataDir = (share: string, volumeId: string): string => path.join(share, 'volumes', volumeId, 'data');

async function lazyUnmount(p: string): Promise<void> {
  try {
    await run('umount', ['-l', p], { timeout: 10_000 });
  } catch {
    // not mounted any more
  }
}

/** Each covered volume gets its own bindfs daemon over its data directory. */
function perVolumeStorage(root: string, share: string): FrozenStorage {
  const mounts: BindfsMount[] = [];
  return {
    variant: 'per-volume',
    async cover(volumeId) {
      mounts.push(await mountBindfs(path.join(root, 'backing', volumeId), dataDir(share, volumeId)));
    },
    daemonPids: () => mounts.map((m) => m.daemon.pid ?? 0).filter((p) => p > 0),
    freeze: () => mounts.forEach((m) => m.freeze()),
    thaw: () => mounts.forEach((m) => m.thaw()),
    async dispose() {
      for (const m of mounts) m.thaw();
      for (const m of mounts.splice(0)) await m.dispose();
    },
  };
}

/**
 * One bindfs daemon at `<root>/server`; each covered volume's data directory is a bind mount of
 * its own subdirectory there, so one SIGSTOP hangs them all.
 */
function oneServerStorage(root: string, share: string): FrozenStorage {
  const exportDir = path.join(root, 'server');
  let server: BindfsMount | undefined;
  const binds: string[] = [];
  return {
    variant: 'one-server',
    async cover(volumeId) {
      server ??= await mountBindfs(path.join(root, 'backing-server'), exportDir);
      // The daemon is running here (not frozen), so a plain mkdir through it returns.
      mkdirSync(path.join(exportDir, volumeId));
      const target = dataDir(share, volumeId);
      await run('mount', ['--bind', path.join(exportDir, volumeId), target], { timeout: 10_000 });
      binds.push(target);
    },
    daemonPids: () => (server?.daemon.pid ? [server.daemon.pid] : []),
    freeze: () => server?.freeze(),
    thaw: () => server?.thaw(),
    async dispose() {
      server?.thaw();
      for (const b of binds.splice(0).reverse()) await lazyUnmount(b);
      await server?.dispose();
      server = undefined;
    },
  };
}

/** FUSE storage for hung volumes of a driver whose temp root is `root` and share `share`. */
export function frozenStorage(variant: OutageVariant, root: string, share: string): FrozenStorage {
  return variant === 'per-volume' ? perVolumeStorage(root, share) : oneServerStorage(root, share);
}
