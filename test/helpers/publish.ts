import * as path from 'node:path';
import type { CsiClient } from './csiClient';
import { mountBindfs, type BindfsMount } from './bindfs';

export const mountCap = { access_mode: { mode: 'SINGLE_NODE_WRITER' as const }, mount: { fs_type: '', mount_flags: [] } };

export interface PublishedVolume {
  volumeId: string;
  staging: string;
  target: string;
  /** Set when the volume's data directory sits under a bindfs mount we control. */
  fuse?: BindfsMount;
}

/**
 * Creates, stages and publishes a volume. With `fuse`, the volume's data directory on the share
 * is first covered by a bindfs mount, so the test can freeze or kill the storage under it;
 * `cover` does the same with storage the caller holds (see frozenStorage.ts).
 */
export async function createAndPublish(
  client: CsiClient,
  root: string,
  share: string,
  name: string,
  opts: { fuse?: boolean; readonly?: boolean; cover?: (volumeId: string) => Promise<void>; deadlineMs?: number } = {},
): Promise<PublishedVolume> {
  const { volume } = await client.controller.CreateVolume({ name, volume_capabilities: [mountCap] }, opts.deadlineMs);
  const volumeId = volume!.volume_id;
  let fuse: BindfsMount | undefined;
  if (opts.fuse) fuse = await mountBindfs(path.join(root, 'backing', volumeId), path.join(share, 'volumes', volumeId, 'data'));
  await opts.cover?.(volumeId);
  const staging = path.join(root, 'staging', volumeId);
  const target = path.join(root, 'pods', volumeId, 'mount');
  await client.node.NodeStageVolume(
    { volume_id: volumeId, staging_target_path: staging, volume_capability: mountCap, volume_context: volume!.volume_context },
    opts.deadlineMs,
  );
  await client.node.NodePublishVolume(
    {
      volume_id: volumeId,
      staging_target_path: staging,
      target_path: target,
      volume_capability: mountCap,
      readonly: opts.readonly ?? false,
      volume_context: volume!.volume_context,
    },
    opts.deadlineMs,
  );
  return { volumeId, staging, target, ...(fuse ? { fuse } : {}) };
}
