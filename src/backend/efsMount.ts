import { existsSync } from 'node:fs';
import { MountUnsupportedError } from './backendErrors';
import { isEfsOnlyOption, mergeMountOptions } from './nfsMountOptions';
import type { VolumeSource } from './records';

/** The NFS options AWS recommends for EFS without its mount helper. */
export const efsRecommendedOptions: readonly string[] = Object.freeze([
  'nfsvers=4.1',
  'rsize=1048576',
  'wsize=1048576',
  'hard',
  'timeo=600',
  'retrans=2',
  'noresvport',
]);

/** Where mount(8) looks for the `mount.efs` helper of amazon-efs-utils. */
const efsHelperPaths = ['/sbin/mount.efs', '/usr/sbin/mount.efs', '/sbin/fs.d/mount.efs', '/sbin/fs/mount.efs'];

/**
 * Answers "is amazon-efs-utils installed?" by looking for `mount.efs`, once: the answer is
 * kept for the life of the process (installing efs-utils means a new image and a restart).
 */
export function efsUtilsDetector(exists: (p: string) => boolean = existsSync, paths: readonly string[] = efsHelperPaths): () => boolean {
  let present: boolean | undefined;
  return () => (present ??= paths.some((p) => exists(p)));
}

/** An EFS file system as reached from this node. */
export interface EfsEndpoint {
  kind: 'efs';
  /** Name or address for `mount -t nfs4` and the reachability check. */
  host: string;
  /** Known unless only a mount-target IP was configured. */
  fileSystemId?: string;
  /** An explicit DNS name (--efs-dns-name), passed to mount.efs instead of the id. */
  dnsName?: string;
  /** An explicit mount-target IP (--efs-dns-name with an address): mount.efs's mounttargetip. */
  mountTargetIp?: string;
}

export interface EfsMountRequest {
  path: string;
  accessPointId?: string;
  /** Options that apply to every mount of this file system (--nfs-mount-options for the configured one). */
  base: readonly string[];
  /** StorageClass/volume_context options and capability mount_flags, already checked. */
  perVolume: readonly string[];
  efsUtils: boolean;
}

/**
 * How to mount an EFS path: `mount -t efs -o tls[,accesspoint=…]` when amazon-efs-utils is
 * installed (TLS through its stunnel), else plain NFSv4.1 with AWS's recommended options.
 * An access point or an efs-utils option without efs-utils is refused: the mount could not
 * honour it.
 */
export function efsVolumeSource(ep: EfsEndpoint, req: EfsMountRequest): VolumeSource {
  if (req.efsUtils && ep.fileSystemId) {
    const own = [
      'tls',
      ...(req.accessPointId ? [`accesspoint=${req.accessPointId}`] : []),
      ...(ep.mountTargetIp ? [`mounttargetip=${ep.mountTargetIp}`] : []),
    ];
    return {
      kind: 'nfs',
      fsType: 'efs',
      device: `${ep.dnsName ?? ep.fileSystemId}:${req.path}`,
      options: mergeMountOptions(own, req.base, req.perVolume),
    };
  }
  const why = req.efsUtils
    ? 'no file system id is known (only a mount-target address was configured)'
    : 'amazon-efs-utils (mount.efs) is not installed on this node';
  if (req.accessPointId) throw new MountUnsupportedError(`EFS access point ${req.accessPointId} needs mount -t efs, but ${why}`);
  const helperOnly = [...req.base, ...req.perVolume].filter(isEfsOnlyOption);
  if (helperOnly.length > 0) throw new MountUnsupportedError(`mount options ${helperOnly.join(',')} need mount -t efs, but ${why}`);
  return {
    kind: 'nfs',
    fsType: 'nfs4',
    device: `${ep.host}:${req.path}`,
    options: mergeMountOptions(efsRecommendedOptions, req.base, req.perVolume),
  };
}
