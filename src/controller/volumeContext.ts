import type { VolumeContextSource } from '../backend/backend';
import type { VolumeRecord } from '../backend/records';
import { ShareStore } from '../backend/shareStore';

export type { VolumeContextSource } from '../backend/backend';

/**
 * The volume_context a node receives with NodeStage/NodePublish: enough to mount the volume
 * without asking the controller (the data directory, and for NFS the server and export).
 */
export function volumeContextFor(rec: VolumeRecord, src: VolumeContextSource): Record<string, string> {
  const ctx: Record<string, string> = { backend: src.backend, volumeDir: ShareStore.volumeDataDir(rec.id) };
  if (src.server) ctx.server = src.server;
  if (src.share) ctx.share = src.share;
  if (rec.parameters.mountOptions) ctx.mountOptions = rec.parameters.mountOptions;
  // The values at creation; ControllerModifyVolume changes reach nodes as docs/health-monitoring.md says.
  for (const k of ['healthCheckInterval', 'healthCheckTimeout'] as const) {
    const v = rec.parameters[k];
    if (v !== undefined) ctx[k] = v;
  }
  return ctx;
}
