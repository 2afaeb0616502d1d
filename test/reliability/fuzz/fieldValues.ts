import * as path from 'node:path';
import { encodePageToken } from '../../../src/grpc/pageToken';
import { stagingOf, targetOf, type FuzzWorld } from './fuzzWorld';
import {
  hostileCapacities,
  hostileFsTypes,
  hostileMap,
  hostileMaxEntries,
  hostileModes,
  hostileMountFlags,
  hostileMountOptions,
  hostileString,
  hostileToken,
  validModes,
} from './hostileValues';
import type { Prng } from './prng';

/** What a request field holds, for the generators: each kind has valid and hostile values. */
export type FieldKind =
  | 'name'
  | 'volumeId'
  | 'snapshotId'
  | 'nodeId'
  | 'path'
  | 'cap'
  | 'caps'
  | 'range'
  | 'createParams'
  | 'snapParams'
  | 'map'
  | 'context'
  | 'secrets'
  | 'source'
  | 'topologyReq'
  | 'topology'
  | 'maxEntries'
  | 'token'
  | 'bool';

/** Marks every secret value, so that one search of the log finds any leak. */
export const secretMarker = 'FUZZSECRET';

const GiB = 1024 ** 3;
type Cap = Record<string, unknown>;

/**
 * The generators of one request: its own PRNG stream, the run's world, and a volume slot
 * chosen once, so that the fields of a valid request agree with each other (the staging path
 * of the volume it names, the volume_context of that volume...).
 */
export class FieldValues {
  readonly slot: number;

  constructor(
    readonly rng: Prng,
    readonly w: FuzzWorld,
    readonly index: number,
  ) {
    this.slot = rng.int(w.volumeNames.length);
  }

  /** Mostly this request's slot, sometimes another one (requests that disagree on purpose). */
  otherSlot(p = 0.1): number {
    return this.rng.chance(p) ? this.rng.int(this.w.volumeNames.length) : this.slot;
  }

  volumeName(i = this.slot): string {
    return this.w.volumeNames[i] as string;
  }

  volumeId(i = this.slot): string {
    return this.w.volumeIds[i] as string;
  }

  snapshotSlot(): number {
    return this.rng.int(this.w.snapshotNames.length);
  }

  staging(i = this.slot): string {
    return stagingOf(this.w, i);
  }

  target(i = this.slot, j = this.rng.int(this.w.targetsPerVolume)): string {
    return targetOf(this.w, i, j);
  }

  validCap(): Cap {
    const rng = this.rng;
    return {
      access_mode: { mode: rng.pick(validModes) },
      mount: {
        fs_type: rng.pick(['', '', 'nfs', 'nfs4']),
        mount_flags: rng.pick([[], [], ['noatime'], ['nosuid', 'nodev'], ['nfsvers=4.1', 'hard']]),
        volume_mount_group: rng.pick(['', '', '1000']),
      },
    };
  }

  validRange(): Record<string, string> {
    const required = this.rng.pick(['0', String(1024 ** 2), String(GiB), String(2 * GiB)]);
    return { required_bytes: required, limit_bytes: this.rng.pick(['0', String(10 * GiB)]) };
  }

  validContext(i = this.slot): Record<string, string> {
    return this.rng.chance(0.3) ? {} : { backend: 'local', volumeDir: `volumes/${this.volumeId(i)}/data` };
  }

  validToken(): string {
    return this.rng.chance(0.6) ? '' : encodePageToken(this.rng.pick([...this.w.volumeIds, ...this.w.snapshotIds]));
  }

  /** A secrets map whose every value carries the marker and is unique to this request. */
  secrets(hostile = false): Record<string, string> {
    const rng = this.rng;
    const value = (): string => `${secretMarker}-${this.w.tag}-${this.index}-${rng.hex(8)}`;
    if (!hostile) return { password: value() };
    const out: Record<string, string> = {};
    const n = rng.between(1, 4);
    for (let i = 0; i < n; i++) {
      const v = rng.pick([value, () => `${value()}${hostileString(rng)}`, () => `${value()}\n${value()}`]);
      Object.defineProperty(out, rng.chance(0.5) ? hostileString(rng) : `key-${i}`, {
        value: v(),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }

  /** A hostile value of a kind: sometimes still valid, often not. */
  hostile(kind: FieldKind): unknown {
    const rng = this.rng;
    switch (kind) {
      case 'name':
        return rng.chance(0.2) ? rng.pick([...this.w.volumeNames, ...this.w.snapshotNames]) : hostileString(rng);
      case 'volumeId':
        return rng.weighted<() => string>([
          [3, () => hostileString(rng)],
          [1, () => rng.pick(this.w.volumeIds)],
          [1, () => rng.pick(this.w.snapshotIds)],
          [
            1,
            () =>
              rng.pick([
                'fs-12345678',
                'fs-12345678:/a/b',
                'efs:fs-12345678:/../x',
                'fs-12345678:/a:fsap-0123456789abcdef0',
                'fs-1:/x',
                'efs:',
              ]),
          ],
        ])();
      case 'snapshotId':
        return rng.chance(0.25) ? rng.pick([...this.w.snapshotIds, ...this.w.volumeIds]) : hostileString(rng);
      case 'nodeId':
        return rng.chance(0.2) ? 'node-1' : hostileString(rng);
      case 'path':
        return this.hostilePath();
      case 'cap':
        return this.hostileCap();
      case 'caps':
        return rng.weighted<() => Cap[]>([
          [1, () => []],
          [3, () => [this.hostileCap()]],
          [2, () => [this.validCap(), this.hostileCap()]],
          [1, () => Array.from({ length: 300 }, () => this.validCap())],
        ])();
      case 'range':
        return rng.weighted<() => unknown>([
          [4, () => ({ required_bytes: rng.pick(hostileCapacities), limit_bytes: rng.pick(hostileCapacities) })],
          [2, () => ({ required_bytes: rng.pick(hostileCapacities) })],
          [1, () => ({ limit_bytes: rng.pick(hostileCapacities) })],
          [1, () => ({})],
        ])();
      case 'createParams':
        return rng.weighted<() => Record<string, string>>([
          [3, () => ({ mountOptions: rng.pick(hostileMountOptions) })],
          [2, () => ({ [hostileString(rng)]: 'x' })],
          [1, () => ({ 'csi.storage.k8s.io/pvc/name': hostileString(rng), 'csi.storage.k8s.io/pvc/namespace': '../..' })],
          [2, () => hostileMap(rng)],
        ])();
      case 'snapParams':
        return rng.chance(0.5)
          ? { [hostileString(rng)]: hostileString(rng) }
          : { 'csi.storage.k8s.io/volumesnapshot/name': hostileString(rng) };
      case 'map':
        return hostileMap(rng);
      case 'context':
        return rng.weighted<() => Record<string, string>>([
          [
            2,
            () => ({
              backend: 'local',
              volumeDir: rng.pick([
                '../../etc',
                '/etc',
                `volumes/${this.volumeId(this.otherSlot(1))}/data`,
                'volumes/../../x/data',
                hostileString(rng),
              ]),
            }),
          ],
          [
            1,
            () => ({
              backend: 'nfs',
              server: hostileString(rng),
              share: rng.pick(['/../..', '/export', hostileString(rng)]),
              subDir: rng.pick(['../..', 'a', hostileString(rng)]),
            }),
          ],
          [1, () => ({ mountOptions: rng.pick(hostileMountOptions) })],
          [2, () => hostileMap(rng)],
        ])();
      case 'secrets':
        return this.secrets(true);
      case 'source':
        return rng.weighted<() => unknown>([
          [1, () => ({})],
          [2, () => ({ snapshot: { snapshot_id: this.hostile('snapshotId') } })],
          [2, () => ({ volume: { volume_id: this.hostile('volumeId') } })],
          [1, () => ({ snapshot: { snapshot_id: rng.pick(this.w.snapshotIds) }, volume: { volume_id: rng.pick(this.w.volumeIds) } })],
          [1, () => ({ snapshot: {} })],
        ])();
      case 'topologyReq':
        return { requisite: [{ segments: hostileMap(rng) }], preferred: rng.chance(0.5) ? [] : [{ segments: hostileMap(rng) }] };
      case 'topology':
        return { segments: hostileMap(rng) };
      case 'maxEntries':
        return rng.pick(hostileMaxEntries);
      case 'token':
        return hostileToken(rng);
      case 'bool':
        return rng.chance(0.5);
    }
  }

  /** A capability that is wrong in one way, or sometimes odd but servable. */
  hostileCap(): Cap {
    const rng = this.rng;
    const base = this.validCap();
    const mount = base.mount as Record<string, unknown>;
    return rng.weighted<() => Cap>([
      [2, () => ({ access_mode: base.access_mode, block: {} })],
      [1, () => ({ ...base, block: {} })],
      [1, () => ({ access_mode: base.access_mode })],
      [1, () => ({ mount })],
      [2, () => ({ ...base, access_mode: { mode: rng.pick(hostileModes) } })],
      [2, () => ({ ...base, mount: { ...mount, fs_type: rng.pick(hostileFsTypes) } })],
      [
        3,
        () => ({ ...base, mount: { ...mount, mount_flags: Array.from({ length: rng.between(1, 3) }, () => rng.pick(hostileMountFlags)) } }),
      ],
      [1, () => ({ ...base, mount: { ...mount, mount_flags: Array.from({ length: 500 }, () => 'noatime') } })],
      [1, () => ({ ...base, mount: { ...mount, volume_mount_group: hostileString(rng) } })],
      [1, () => ({})],
    ])();
  }

  /**
   * A staging or target path that is not the one kubelet would give: tricks on kubelet paths,
   * clean paths outside the root, the driver's own directories, symlinks that climb out,
   * the decoys, and paths the driver must refuse outright.
   */
  hostilePath(): string {
    const rng = this.rng;
    const w = this.w;
    const p = rng.chance(0.5) ? this.target() : this.staging();
    const dir = path.dirname(p);
    return rng.weighted<() => string>([
      [1, () => `${p}/`],
      [1, () => p.replace('/kubelet/', '/kubelet//')],
      [1, () => `${dir}/./${path.basename(p)}/.`],
      [
        2,
        () =>
          path.join(
            dir,
            rng.pick([
              'm\u00E9\u{1F4A5}',
              'new\nline',
              'sp ace',
              'tab\there',
              '\u202Eltr',
              'x'.repeat(255),
              '-rf',
              '--bind',
              'a,b',
              '$(id)',
            ]),
          ),
      ],
      [1, () => path.join(dir, 'x'.repeat(256))],
      [1, () => `${p}/${`${'y'.repeat(200)}/`.repeat(21)}`],
      [3, () => rng.pick(w.outsidePaths)],
      [3, () => rng.pick(w.insidePaths)],
      [2, () => rng.pick(w.symlinkPaths)],
      [2, () => rng.pick([w.decoys.mount, w.decoys.emptyDir, w.decoys.file, path.join(w.decoys.file, 'mount'), w.decoys.linkedDir])],
      [
        3,
        () =>
          rng.pick([
            w.decoys.foreignMount,
            path.join(w.decoys.foreignMount, 'sub'),
            w.decoys.kubeletFile,
            path.join(w.decoys.kubeletFile, 'mount'),
          ]),
      ],
      [1, () => `${dir}/../escaped`],
      [1, () => `${w.kubelet}/pods/../../escaped-${w.tag}`],
      [1, () => rng.pick(['', 'kubelet/relative', './x', 'x', '~/x'])],
      [1, () => `${p}\0`],
      [1, () => `${dir}/nul\0/mount`],
    ])();
  }
}
