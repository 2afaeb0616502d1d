import { RecordCorruptError } from './recordErrors';

/**
 * What the share records about a group snapshot, in groupsnapshots/<id>/groupsnapshot.json.
 * Written before its members (complete: false) and again after them (complete: true), so that
 * a crash between the two leaves a record that names every member to clean up or redo.
 */
export interface GroupSnapshotRecord {
  id: string;
  name: string;
  /** Source volume ids, in request order. */
  sourceVolumeIds: string[];
  /** Member snapshot ids, one per source volume, same order. */
  snapshotIds: string[];
  createdAt: string;
  complete: boolean;
}

/** One volume attached to one node (ControllerPublishVolume), in attachments/<node>/<volume>.json. */
export interface PublishRecord {
  volumeId: string;
  nodeId: string;
  readonly: boolean;
  accessMode: string;
  publishContext: Record<string, string>;
  publishedAt: string;
}

/** A node that announced itself to the controller, in nodes/<node>.json. */
export interface NodeRecord {
  nodeId: string;
  /** 0: no limit. */
  maxVolumesPerNode: number;
  registeredAt: string;
}

const isStr = (v: unknown): v is string => typeof v === 'string';
const isStrList = (v: unknown): v is string[] => Array.isArray(v) && v.every(isStr);
const isStrMap = (v: unknown): v is Record<string, string> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every(isStr);

function fail(file: string, what: string): never {
  throw new RecordCorruptError('a record of the driver', file, what);
}

/** Checks a parsed groupsnapshot.json; content from the share is untrusted. */
export function checkGroupSnapshotRecord(v: unknown, file: string): GroupSnapshotRecord {
  const r = v as Partial<GroupSnapshotRecord>;
  if (typeof v !== 'object' || v === null) fail(file, 'not an object');
  if (!isStr(r.id) || !isStr(r.name) || !isStr(r.createdAt) || typeof r.complete !== 'boolean')
    fail(file, 'id, name, createdAt or complete missing');
  if (!isStrList(r.sourceVolumeIds) || !isStrList(r.snapshotIds) || r.sourceVolumeIds.length !== r.snapshotIds.length) {
    fail(file, 'sourceVolumeIds and snapshotIds must be string lists of one length');
  }
  return {
    id: r.id,
    name: r.name,
    sourceVolumeIds: r.sourceVolumeIds,
    snapshotIds: r.snapshotIds,
    createdAt: r.createdAt,
    complete: r.complete,
  };
}

/** Checks a parsed attachment record. */
export function checkPublishRecord(v: unknown, file: string): PublishRecord {
  const r = v as Partial<PublishRecord>;
  if (typeof v !== 'object' || v === null) fail(file, 'not an object');
  if (
    !isStr(r.volumeId) ||
    !isStr(r.nodeId) ||
    typeof r.readonly !== 'boolean' ||
    !isStr(r.accessMode) ||
    !isStrMap(r.publishContext) ||
    !isStr(r.publishedAt)
  ) {
    fail(file, 'a field is missing or of the wrong type');
  }
  return {
    volumeId: r.volumeId,
    nodeId: r.nodeId,
    readonly: r.readonly,
    accessMode: r.accessMode,
    publishContext: r.publishContext,
    publishedAt: r.publishedAt,
  };
}

/** Checks a parsed node record. */
export function checkNodeRecord(v: unknown, file: string): NodeRecord {
  const r = v as Partial<NodeRecord>;
  if (typeof v !== 'object' || v === null) fail(file, 'not an object');
  if (
    !isStr(r.nodeId) ||
    typeof r.maxVolumesPerNode !== 'number' ||
    !Number.isInteger(r.maxVolumesPerNode) ||
    r.maxVolumesPerNode < 0 ||
    !isStr(r.registeredAt)
  ) {
    fail(file, 'a field is missing or of the wrong type');
  }
  return { nodeId: r.nodeId, maxVolumesPerNode: r.maxVolumesPerNode, registeredAt: r.registeredAt };
}
