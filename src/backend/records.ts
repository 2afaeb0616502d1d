/** What the share records about a volume, in volumes/<id>/volume.json and registry/volumes/<id>.json. */
export interface VolumeRecord {
  id: string;
  name: string;
  /** Exact int64: capacities pass 2^53 (EFS reports about 8 EiB). */
  capacityBytes: bigint;
  parameters: Record<string, string>;
  contentSource?: { snapshotId: string } | { volumeId: string };
  createdAt: string;
}

/** What the share records about a snapshot, in snapshots/<id>/snapshot.json. */
export interface SnapshotRecord {
  id: string;
  name: string;
  sourceVolumeId: string;
  sizeBytes: bigint;
  createdAt: string;
  parameters: Record<string, string>;
  /** Set on the members of a group snapshot: the group they belong to. */
  groupSnapshotId?: string;
}

/** Capacity of the share, from statfs, exact. */
export interface ShareCapacity {
  totalBytes: bigint;
  availableBytes: bigint;
}

/** A record file as read: there, not there, or there and unusable (with what is wrong, in words). */
export type RecordRead<T> = { state: 'ok'; rec: T } | { state: 'absent' } | { state: 'corrupt'; problem: string };

/** The controller's view of one volume's storage, for volume health. */
export interface VolumeInspection {
  /** The volume directory exists. */
  exists: boolean;
  /** The data directory answered a stat within the deadline. */
  accessible: boolean;
  /** volume.json parses, passes the schema and names this volume. */
  metadataIntact: boolean;
  /** The volume directory exists but its data/ is missing (or is not a directory). */
  dataMissing?: boolean;
  /** What is wrong with volume.json, when it is not intact: "is missing", "is not valid JSON: ...". */
  metadataProblem?: string;
  /** volume.json, when intact. */
  record?: VolumeRecord;
  /** errno-like code when something failed. */
  code?: string;
  message?: string;
}

/** How a node mounts a volume: a bind of a local directory, or an NFS mount. */
export type VolumeSource = { kind: 'bind'; path: string } | { kind: 'nfs'; fsType: 'nfs4' | 'efs'; device: string; options: string[] };
