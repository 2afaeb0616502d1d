import * as path from 'node:path';
import { MountPlanError } from './backendErrors';
import { looksLikeEfsHandle, parseEfsVolumeHandle } from './efsVolumeHandle';
import { joinExportPath, type NfsMountPlanner } from './nfsMountPlan';
import { checkMountOptions, parseCheckedMountOptions, type MountOptionFlavour } from './nfsMountOptions';
import type { VolumeSource } from './records';
import { ShareStore } from './shareStore';

const invalid = (message: string): MountPlanError => new MountPlanError(message);

/** Works out how to mount a volume on this node from its id and volume_context. */
export type VolumeSourceResolver = (volumeId: string, context: Record<string, string>, mountFlags: string[]) => VolumeSource;

/**
 * The local backend: the volume's data directory under --local-dir, bind-mounted. The
 * directory comes from the volume id, so a volume_context cannot point a mount elsewhere.
 */
export function localSourceResolver(localDir: string): VolumeSourceResolver {
  return (volumeId, context) => {
    const rel = ShareStore.volumeDataDir(volumeId);
    if (context.volumeDir !== undefined && context.volumeDir !== rel) {
      throw invalid(`volume_context.volumeDir "${context.volumeDir}" does not belong to volume ${volumeId}`);
    }
    const abs = path.join(localDir, rel);
    if (!abs.startsWith(localDir + path.sep)) throw invalid(`volume ${volumeId} resolves outside the share`);
    return { kind: 'bind', path: abs };
  };
}

/** volume_context mountOptions, then the capability's mount_flags, each checked against the allowlist. */
function perVolumeOptions(flavour: MountOptionFlavour, context: Record<string, string>, mountFlags: string[]): string[] {
  const out: string[] = [];
  try {
    if (context.mountOptions) out.push(...parseCheckedMountOptions(context.mountOptions, flavour));
  } catch (err) {
    throw invalid(`volume_context.mountOptions: ${(err as Error).message}`);
  }
  try {
    out.push(...checkMountOptions(mountFlags, flavour));
  } catch (err) {
    throw invalid(`volume_capability.mount.mount_flags: ${(err as Error).message}`);
  }
  return out;
}

function exportPath(share: string, rel: string, what: string): string {
  try {
    return joinExportPath(share, rel);
  } catch (err) {
    throw invalid(`${what}: ${(err as Error).message}`);
  }
}

/**
 * The nfs backend. Three kinds of volume, told apart by their context and id:
 * - provisioned by this driver: volume_context.volumeDir is `volumes/<id>/data` (checked
 *   against the id), mounted from `server:<share>/volumes/<id>/data`;
 * - a static EFS volume: the id is an aws-efs-csi-driver handle (`[efs:]fs-…[:/path[:fsap-…]]`);
 * - a static NFS volume: volume_context names `share` (and optionally `server`, `subDir`).
 * volume_context.mountOptions and the capability's mount_flags come on top of the server's
 * options, validated against the allowlist (EFS also allows efs-utils options). Every volume
 * mount gets `nosharecache` (overridable): its own superblock, so that forcing one hung volume
 * off (`umount -f`) does not abort the requests of the node's other volumes on that server.
 */
export function nfsSourceResolver(planner: NfsMountPlanner): VolumeSourceResolver {
  return (volumeId, context, mountFlags) => {
    if (context.backend !== undefined && context.backend !== 'nfs') {
      throw invalid(`volume ${volumeId} was provisioned by the ${context.backend} backend; this node serves nfs`);
    }
    const server = context.server ?? '';
    const flavour = (): MountOptionFlavour => {
      try {
        return planner.flavourOf(server);
      } catch (err) {
        throw invalid(`volume_context.server: ${(err as Error).message}`);
      }
    };
    if (context.volumeDir !== undefined) {
      const rel = ShareStore.volumeDataDir(volumeId);
      if (context.volumeDir !== rel) throw invalid(`volume_context.volumeDir "${context.volumeDir}" does not belong to volume ${volumeId}`);
      const p = exportPath(context.share ?? planner.share, rel, 'volume_context.share');
      return planner.plan({
        server,
        path: p,
        perVolume: perVolumeOptions(flavour(), context, mountFlags),
        isolated: true,
        confineToShare: true,
      });
    }
    if (looksLikeEfsHandle(volumeId)) {
      let h: ReturnType<typeof parseEfsVolumeHandle>;
      try {
        h = parseEfsVolumeHandle(volumeId);
      } catch (err) {
        throw invalid((err as Error).message);
      }
      return planner.plan({
        server: h.fileSystemId,
        path: h.path,
        ...(h.accessPointId ? { accessPointId: h.accessPointId } : {}),
        perVolume: perVolumeOptions('efs', context, mountFlags),
        isolated: true,
      });
    }
    if (context.share !== undefined || context.subDir !== undefined || context.server !== undefined) {
      const p = exportPath(context.share ?? planner.share, context.subDir ?? '', 'volume_context share/subDir');
      return planner.plan({
        server,
        path: p,
        perVolume: perVolumeOptions(flavour(), context, mountFlags),
        isolated: true,
        confineToShare: true,
      });
    }
    throw invalid(
      `volume ${volumeId}: volume_context has neither volumeDir (a provisioned volume) nor share or subDir (a static NFS volume), and the id is no EFS handle`,
    );
  };
}
