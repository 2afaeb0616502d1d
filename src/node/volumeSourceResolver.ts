import * as path from 'node:path';
import type { VolumeSource } from '../backend/records';
import { ShareStore } from '../backend/shareStore';
import { invalidArgument } from '../grpc/csiError';

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
      throw invalidArgument(`volume_context.volumeDir "${context.volumeDir}" does not belong to volume ${volumeId}`);
    }
    const abs = path.join(localDir, rel);
    if (!abs.startsWith(localDir + path.sep)) throw invalidArgument(`volume ${volumeId} resolves outside the share`);
    return { kind: 'bind', path: abs };
  };
}
