/** What the share records about a volume, in volumes/<id>/volume.json. */
export interface VolumeRecord {
  id: string;
  name: string;
  capacityBytes: number;
  parameters: Record<string, string>;
  contentSource?: { snapshotId: string } | { volumeId: string };
  createdAt: string;
}

/** What the share records about a snapshot, in snapshots/<id>/snapshot.json. */
export interface SnapshotRecord {
  id: string;
  name: string;
  sourceVolumeId: string;
  sizeBytes: number;
  createdAt: string;
  parameters: Record<string, string>;
  /** Set on the members of a group snapshot: the group they belong to. */
  groupSnapshotId?: string;
}

/** Capacity of the share, from statfs. */
export interface ShareCapacity {
  totalBytes: number;
  availableBytes: number;
}

/** The controller's view of one volume's storage, for volume health. */
export interface VolumeInspection {
  /** The volume directory exists. */
  exists: boolean;
  /** The data directory answered a stat within the deadline. */
  accessible: boolean;
  /** volume.json parses and names this volume. */
  metadataIntact: boolean;
  /** errno-like code or TIMEOUT when something failed. */
  code?: string;
  message?: string;
}

/** How a node mounts a volume: a bind of a local directory, or an NFS mount. */
export type VolumeSource =
  | { kind: 'bind'; path: string }
  | { kind: 'nfs'; fsType: 'nfs4' | 'efs'; device: string; options: string[] };
