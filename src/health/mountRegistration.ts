import type { VolumeSource } from '../backend/records';

/** A mount the node made and the health monitor watches. */
export interface MountRegistration {
  volumeId: string;
  /** The staging or target path (the mount point). */
  path: string;
  kind: 'staging' | 'publish';
  readOnly: boolean;
  /** The mount table source we expect at `path` (e.g. `server:/export/volumes/x/data`); empty for bind mounts. */
  expectedSource: string;
  /** For a publish: the staging path it binds from. */
  stagingPath?: string;
  /** For a staging mount: how it was made, so that a stale one can be made again. */
  source?: VolumeSource;
  /** This volume's own check interval (ControllerModifyVolume healthCheckInterval); the monitor's when unset. */
  intervalMs?: number;
  /** This volume's own check deadline (healthCheckTimeout), shorter than its interval; the monitor's when unset. */
  timeoutMs?: number;
}
