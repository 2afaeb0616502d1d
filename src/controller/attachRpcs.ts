import type { ShareStore } from '../backend/shareStore';
import type { ShareRecordStore } from '../backend/shareRecordStore';
import { checkIdentifier } from '../backend/ids';
import { publishContextFor } from '../backend/attachContext';
import { alreadyExists, failedPrecondition, notFound, resourceExhausted } from '../grpc/csiError';
import { requireCapability } from '../grpc/validateCommon';
import type { ControllerPublishVolumeRequest__Output } from '../gen/csi/v1/ControllerPublishVolumeRequest';
import type { ControllerPublishVolumeResponse } from '../gen/csi/v1/ControllerPublishVolumeResponse';
import type { ControllerUnpublishVolumeRequest__Output } from '../gen/csi/v1/ControllerUnpublishVolumeRequest';
import { currentMutableParameters } from './modifyVolume';

export interface AttachDeps {
  store: ShareStore;
  records: ShareRecordStore;
  /** This process's node id in mode all: a node the controller knows without a record. */
  ownNode?: { nodeId: string; maxVolumesPerNode: number };
}

const singleNodeModes = new Set(['SINGLE_NODE_WRITER', 'SINGLE_NODE_READER_ONLY', 'SINGLE_NODE_SINGLE_WRITER', 'SINGLE_NODE_MULTI_WRITER']);

/** A node is known when it is this process's own, or announced itself on the share. */
async function nodeLimit(deps: AttachDeps, nodeId: string): Promise<number> {
  if (deps.ownNode?.nodeId === nodeId) return deps.ownNode.maxVolumesPerNode;
  const rec = await deps.records.getNode(nodeId);
  if (!rec)
    throw notFound(
      `node ${nodeId} is not known to this driver (a node plugin with --enable-attach announces itself on the share at start)`,
    );
  // The node's own --max-volumes-per-node, as its NodeGetInfo reports it (0: no limit).
  return rec.maxVolumesPerNode;
}

/**
 * ControllerPublishVolume (with --enable-attach): records the attachment durably on the share.
 * CSI codes: unknown volume or node NOT_FOUND; published to this node with another capability or
 * read-only setting ALREADY_EXISTS; a single-node mode published to another node
 * FAILED_PRECONDITION; the node's limit reached RESOURCE_EXHAUSTED. A retry gets the same context.
 */
export async function controllerPublish(
  deps: AttachDeps,
  req: ControllerPublishVolumeRequest__Output,
): Promise<ControllerPublishVolumeResponse> {
  checkIdentifier('volume_id', req.volume_id);
  checkIdentifier('node_id', req.node_id);
  const cap = requireCapability('volume_capability', req.volume_capability);
  const mode = String(cap.access_mode?.mode);
  const vol = await deps.store.getVolume(req.volume_id);
  if (!vol) throw notFound(`volume ${req.volume_id} does not exist`);
  const limit = await nodeLimit(deps, req.node_id);
  const existing = await deps.records.getPublish(req.volume_id, req.node_id);
  if (existing) {
    if (existing.readonly !== req.readonly || existing.accessMode !== mode) {
      throw alreadyExists(`volume ${req.volume_id} is published to node ${req.node_id} with another capability or read-only setting`);
    }
    return { publish_context: existing.publishContext };
  }
  if (singleNodeModes.has(mode)) {
    const others = (await deps.records.nodesOfVolume(req.volume_id)).filter((n) => n !== req.node_id);
    if (others.length > 0) throw failedPrecondition(`volume ${req.volume_id} (${mode}) is published to node ${others.join(', ')}`);
  }
  if (limit > 0 && (await deps.records.publishesOfNode(req.node_id)).length >= limit) {
    throw resourceExhausted(`node ${req.node_id} has ${limit} volumes attached, its maximum`);
  }
  const publishContext = publishContextFor(req.node_id, await currentMutableParameters(deps.records, vol));
  await deps.records.putPublish({
    volumeId: req.volume_id,
    nodeId: req.node_id,
    readonly: req.readonly,
    accessMode: mode,
    publishContext,
    publishedAt: new Date().toISOString(),
  });
  return { publish_context: publishContext };
}

/**
 * ControllerUnpublishVolume: removes the attachment(s); an empty node_id means every node.
 * CSI: a volume or attachment that does not exist is already unpublished (OK).
 */
export async function controllerUnpublish(deps: AttachDeps, req: ControllerUnpublishVolumeRequest__Output): Promise<void> {
  checkIdentifier('volume_id', req.volume_id);
  if (req.node_id) checkIdentifier('node_id', req.node_id);
  const nodes = req.node_id ? [req.node_id] : await deps.records.nodesOfVolume(req.volume_id);
  for (const n of nodes) await deps.records.deletePublish(req.volume_id, n);
}
