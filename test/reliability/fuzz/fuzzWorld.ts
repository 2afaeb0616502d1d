import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { idFromName } from '../../../src/backend/ids';
import type { DriverDirs } from '../../helpers/driverProcess';

/**
 * Everything a run's requests may name: pools of volumes and snapshots (so that valid requests
 * meet existing things), the kubelet directory where legitimate stages and publishes go, and
 * hostile paths outside it. All outside paths carry the run's tag, so a leak is unmistakable.
 */
export interface FuzzWorld {
  seed: number;
  /** `<seed>-<pid>`: part of every outside path of this run. */
  tag: string;
  dirs: DriverDirs;
  /** `<root>/kubelet`: pods and staging directories, as kubelet makes them. */
  kubelet: string;
  volumeNames: string[];
  volumeIds: string[];
  snapshotNames: string[];
  snapshotIds: string[];
  /** Number of target paths per volume slot. */
  targetsPerVolume: number;
  /** Clean absolute paths outside the run's root that do not exist before the run. */
  outsidePaths: string[];
  /** Paths inside the driver's own directories (share, state) or the run root itself. */
  insidePaths: string[];
  /** The symlinks in the kubelet directory, each leading out of it. */
  symlinks: string[];
  /** Kubelet paths that climb out through a symlink. */
  symlinkPaths: string[];
  /** Things outside the root that exist before the run and must be untouched after it. */
  decoys: Decoys;
  /** Top-level names (in os.tmpdir() and /) that only this run's paths start with. */
  outsidePrefix: string;
}

export interface Decoys {
  /** A tmpfs mounted outside the root, holding `keep`. */
  mount: string;
  /** An empty directory. */
  emptyDir: string;
  /** A regular file. */
  file: string;
  /** An empty directory that a kubelet symlink points to. */
  linkedDir: string;
  /** Another driver's staging mount inside the kubelet directory (a tmpfs holding `keep`). */
  foreignMount: string;
  /** A file inside the kubelet directory, as kubelet keeps `etc-hosts` in a pod's directory. */
  kubeletFile: string;
}

/** The staging path kubelet would give volume slot `i`. */
export function stagingOf(w: FuzzWorld, i: number): string {
  return path.join(w.kubelet, 'plugins', 'staging', `s${i}`);
}

/** Target path `j` of volume slot `i`; its parent (the pod's volume directory) exists, as kubelet makes it. */
export function targetOf(w: FuzzWorld, i: number, j: number): string {
  return path.join(w.kubelet, 'pods', `p${i}-${j}`, 'volumes', 'mount');
}

/** Builds the world of a run; `setUpWorld` makes it on disk. */
export function fuzzWorld(seed: number, dirs: DriverDirs): FuzzWorld {
  const tag = `${seed}-${process.pid}`;
  const outsidePrefix = `fuzz-${tag}`;
  const tmp = os.tmpdir();
  const kubelet = path.join(dirs.root, 'kubelet');
  // Safe names are their own ids; the others are hashed (idFromName), and the 128-byte one is the boundary.
  const volumeNames = [...Array.from({ length: 10 }, (_, i) => `fuzz-v${i}`), 'Fuzz Volume \u2713 \u202Ertl', 'v'.repeat(128)];
  const snapshotNames = ['fuzz-s0', 'fuzz-s1', 'fuzz-s2', 'fuzz-s3', 'Fuzz Snapshot \u{1F4F8}'];
  const out = (name: string) => path.join(tmp, `${outsidePrefix}-${name}`);
  return {
    seed,
    tag,
    dirs,
    kubelet,
    volumeNames,
    volumeIds: volumeNames.map(idFromName),
    snapshotNames,
    snapshotIds: snapshotNames.map(idFromName),
    targetsPerVolume: 3,
    outsidePaths: [
      out('out-0'),
      out('out-1'),
      path.join(out('out-2'), 'mount'),
      path.join(out('out-3'), 'deep', 'er', 'mount'),
      `/${outsidePrefix}-root-0`,
      `/${outsidePrefix}-root-1/a/b`,
    ],
    insidePaths: [
      dirs.root,
      dirs.share,
      dirs.state,
      path.join(dirs.share, 'volumes'),
      path.join(dirs.share, 'volumes', 'fuzz-v0'),
      path.join(dirs.share, 'volumes', 'fuzz-v1', 'data', 'inner'),
      path.join(dirs.share, 'snapshots', 'fuzz-s0'),
      path.join(dirs.state, 'mnt'),
      dirs.socket,
      dirs.log,
      path.join(dirs.log, 'mount'),
      kubelet,
      path.join(kubelet, 'pods'),
    ],
    symlinks: ['link-out', 'link-share', 'link-root'].map((l) => path.join(kubelet, 'pods', l)),
    symlinkPaths: [
      path.join(kubelet, 'pods', 'link-out'),
      path.join(kubelet, 'pods', 'link-out', 'mount'),
      path.join(kubelet, 'pods', 'link-share', 'evil'),
      path.join(kubelet, 'pods', 'link-root', `${outsidePrefix}-via-link`),
    ],
    decoys: {
      mount: out('decoy-mount'),
      emptyDir: out('decoy-empty'),
      file: out('decoy-file'),
      linkedDir: out('decoy-linked'),
      foreignMount: path.join(kubelet, 'plugins', 'kubernetes.io', 'csi', 'other.driver', 'globalmount'),
      kubeletFile: path.join(kubelet, 'pods', 'p0-0', 'etc-hosts'),
    },
    outsidePrefix,
  };
}

/** Makes the kubelet directories, the symlinks and the decoys (a tmpfs mount among them). */
export function setUpWorld(w: FuzzWorld): void {
  for (let i = 0; i < w.volumeNames.length; i++) {
    mkdirSync(path.dirname(stagingOf(w, i)), { recursive: true });
    for (let j = 0; j < w.targetsPerVolume; j++) mkdirSync(path.dirname(targetOf(w, i, j)), { recursive: true });
  }
  const d = w.decoys;
  for (const m of [d.mount, d.foreignMount]) {
    mkdirSync(m, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'fuzz-decoy', m]);
    writeFileSync(path.join(m, 'keep'), 'decoy\n');
  }
  writeFileSync(d.kubeletFile, '127.0.0.1 localhost\n');
  mkdirSync(d.emptyDir, { recursive: true });
  writeFileSync(d.file, 'decoy\n');
  mkdirSync(d.linkedDir, { recursive: true });
  symlinkSync(d.linkedDir, path.join(w.kubelet, 'pods', 'link-out'));
  symlinkSync(path.join(w.dirs.share, 'volumes'), path.join(w.kubelet, 'pods', 'link-share'));
  symlinkSync('/', path.join(w.kubelet, 'pods', 'link-root'));
}

/** Removes the decoys outside the root (unmounting the tmpfs ones); the root goes with the run. */
export function tearDownWorld(w: FuzzWorld): void {
  const d = w.decoys;
  for (const m of [d.mount, d.foreignMount]) {
    try {
      execFileSync('umount', ['-l', m], { stdio: 'ignore' });
    } catch {
      // not mounted (any more)
    }
  }
  for (const p of [d.mount, d.emptyDir, d.file, d.linkedDir]) if (existsSync(p)) rmSync(p, { recursive: true, force: true });
}
