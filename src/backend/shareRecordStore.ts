import * as path from 'node:path';
import type { IsolatedFs } from '../isolation/isolatedFs';
import { IsolatedFsError } from '../isolation/isolationErrors';
import { RecordCorruptError } from './recordErrors';
import type { BatchOutcome, BatchStep } from '../isolation/fsOps';
import { inGroupsOf } from '../inGroupsOf';
import { dirNames } from './dirNames';
import {
  checkGroupSnapshotRecord,
  checkNodeRecord,
  checkPublishRecord,
  type GroupSnapshotRecord,
  type NodeRecord,
  type PublishRecord,
} from './shareRecords';

const maxRecordBytes = 256 * 1024;

/** A record that is not there: the file, or the directory that would hold it. */
const absentCodes = new Set(['ENOENT', 'ENOTDIR']);

/** How many files a listing looks at in one round trip (one deadline for all: a small group). */
const filesPerTrip = 32;

function parsed(file: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new RecordCorruptError('a record of the driver', file, (err as Error).message);
  }
}

/**
 * The share's records beside volumes and snapshots, each a small JSON file written atomically
 * (temp, fsync, rename) in a killable helper with a deadline:
 *
 *   groupsnapshots/<id>/groupsnapshot.json   a group snapshot and its member snapshot ids
 *   attachments/<node>/<volume>.json         a volume attached to a node (ControllerPublishVolume)
 *   nodes/<node>.json                        a node that announced itself (for attach)
 *   volumes/<id>/mutable.json                parameters changed by ControllerModifyVolume
 *                                            (volume.json keeps those of creation, so that the
 *                                            volume_context stays as CSI requires: fixed)
 *
 * Ids reaching here were checked by checkIdentifier (no "/", no "..", no NUL), so every path
 * stays inside its folder of the share.
 */
export class ShareRecordStore {
  private readonly opTimeoutMs: number;

  constructor(
    private readonly rootPath: () => Promise<string>,
    private readonly pool: Pick<IsolatedFs, 'run'>,
    opts: { opTimeoutMs?: number } = {},
  ) {
    this.opTimeoutMs = opts.opTimeoutMs ?? 10_000;
  }

  async getGroupSnapshot(id: string): Promise<GroupSnapshotRecord | undefined> {
    const file = path.join(await this.groupDir(id), 'groupsnapshot.json');
    const v = await this.read(file);
    return v === undefined ? undefined : checkGroupSnapshotRecord(v, file);
  }

  async putGroupSnapshot(rec: GroupSnapshotRecord): Promise<void> {
    const dir = await this.groupDir(rec.id);
    await this.pool.run({ op: 'mkdir', path: dir }, this.opTimeoutMs);
    await this.write(path.join(dir, 'groupsnapshot.json'), rec);
  }

  /** Removes the record first, then its directory: a half-deleted group is never found. */
  async deleteGroupSnapshot(id: string): Promise<void> {
    const dir = await this.groupDir(id);
    await this.pool.run({ op: 'rm', path: path.join(dir, 'groupsnapshot.json') }, this.opTimeoutMs);
    await this.pool.run({ op: 'rm', path: dir }, this.opTimeoutMs);
  }

  async getPublish(volumeId: string, nodeId: string): Promise<PublishRecord | undefined> {
    const file = path.join(await this.nodeAttachDir(nodeId), `${volumeId}.json`);
    const v = await this.read(file);
    return v === undefined ? undefined : checkPublishRecord(v, file);
  }

  async putPublish(rec: PublishRecord): Promise<void> {
    const dir = await this.nodeAttachDir(rec.nodeId);
    await this.pool.run({ op: 'mkdir', path: dir }, this.opTimeoutMs);
    await this.write(path.join(dir, `${rec.volumeId}.json`), rec);
  }

  async deletePublish(volumeId: string, nodeId: string): Promise<void> {
    await this.pool.run({ op: 'rm', path: path.join(await this.nodeAttachDir(nodeId), `${volumeId}.json`) }, this.opTimeoutMs);
  }

  /** The volumes attached to a node. A record that cannot be read fails the call: it may hold a slot. */
  async publishesOfNode(nodeId: string): Promise<PublishRecord[]> {
    const dir = await this.nodeAttachDir(nodeId);
    const out: PublishRecord[] = [];
    for (const names of inGroupsOf(
      (await this.names(dir)).filter((n) => n.endsWith('.json')),
      filesPerTrip,
    )) {
      const files = names.map((name) => path.join(dir, name));
      const steps: BatchStep[] = files.map((file) => ({ req: { op: 'readFile', path: file, maxBytes: maxRecordBytes }, tolerate: 'all' }));
      const outcomes = await this.batch(`attachments/${nodeId} (list)`, steps);
      files.forEach((file, i) => {
        const v = this.decode(file, outcomes[i]!);
        if (v !== undefined) out.push(checkPublishRecord(v, file));
      });
    }
    return out;
  }

  /** The nodes a volume is attached to. */
  async nodesOfVolume(volumeId: string): Promise<string[]> {
    const root = path.join(await this.rootPath(), 'attachments');
    const out: string[] = [];
    for (const nodes of inGroupsOf(await this.names(root), filesPerTrip)) {
      const steps: BatchStep[] = nodes.map((node) => ({ req: { op: 'exists', path: path.join(root, node, `${volumeId}.json`) } }));
      const outcomes = await this.batch(`attachments of volume ${volumeId}`, steps);
      nodes.forEach((node, i) => {
        const o = outcomes[i]!;
        if (o.ok && o.value === true) out.push(node);
      });
    }
    return out;
  }

  /** The parameters ControllerModifyVolume set on a volume; {} when none. */
  async getVolumeChanges(volumeId: string): Promise<Record<string, string>> {
    const file = path.join(await this.rootPath(), 'volumes', volumeId, 'mutable.json');
    const v = await this.read(file);
    if (v === undefined) return {};
    if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.values(v).every((x) => typeof x === 'string')) {
      throw new RecordCorruptError('a record of the driver', file, 'not a map of strings');
    }
    return v as Record<string, string>;
  }

  async putVolumeChanges(volumeId: string, params: Record<string, string>): Promise<void> {
    await this.write(path.join(await this.rootPath(), 'volumes', volumeId, 'mutable.json'), params);
  }

  async getNode(nodeId: string): Promise<NodeRecord | undefined> {
    const file = path.join(await this.rootPath(), 'nodes', `${nodeId}.json`);
    const v = await this.read(file);
    return v === undefined ? undefined : checkNodeRecord(v, file);
  }

  async putNode(rec: NodeRecord): Promise<void> {
    const dir = path.join(await this.rootPath(), 'nodes');
    await this.pool.run({ op: 'mkdir', path: dir }, this.opTimeoutMs);
    await this.write(path.join(dir, `${rec.nodeId}.json`), rec);
  }

  private async groupDir(id: string): Promise<string> {
    return path.join(await this.rootPath(), 'groupsnapshots', id);
  }

  private async nodeAttachDir(nodeId: string): Promise<string> {
    return path.join(await this.rootPath(), 'attachments', nodeId);
  }

  private async names(dir: string): Promise<string[]> {
    return dirNames(this.pool, dir, this.opTimeoutMs);
  }

  private async read(file: string): Promise<unknown> {
    let text: string;
    try {
      text = await this.pool.run({ op: 'readFile', path: file, maxBytes: maxRecordBytes }, this.opTimeoutMs);
    } catch (err) {
      if (err instanceof IsolatedFsError && absentCodes.has(err.code)) return undefined;
      throw err;
    }
    return parsed(file, text);
  }

  /** A tolerated read of a batch as read() answers it: the failure of the storage thrown, an absent file undefined. */
  private decode(file: string, outcome: BatchOutcome): unknown {
    if (outcome.ok) return parsed(file, outcome.value as string);
    if (absentCodes.has(outcome.code)) return undefined;
    throw new IsolatedFsError('readFile', file, outcome.code, outcome.message);
  }

  /** Steps in one round trip, with the deadline of one operation: the groups are small. */
  private batch(what: string, steps: BatchStep[]): Promise<BatchOutcome[]> {
    return this.pool.run({ op: 'batch', path: what, steps }, this.opTimeoutMs);
  }

  private async write(file: string, value: unknown): Promise<void> {
    await this.pool.run({ op: 'writeFileAtomic', path: file, data: `${JSON.stringify(value, null, 2)}\n` }, this.opTimeoutMs);
  }
}
