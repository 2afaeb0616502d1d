/**
 * The publish_context ControllerPublishVolume hands to NodeStageVolume when attach is enabled:
 * the node it was attached to, and the volume's mutable parameters as they were at attach time
 * (so that a ControllerModifyVolume reaches the node at its next attach and stage).
 */
export const attachedNodeKey = 'attachedNode';

/** Mutable parameters carried in the publish context. */
export const carriedParameterKeys = ['healthCheckInterval', 'healthCheckTimeout', 'mountOptions'] as const;

/** The publish context for a volume attached to `nodeId` with its current mutable parameters. */
export function publishContextFor(nodeId: string, mutable: Record<string, string>): Record<string, string> {
  const ctx: Record<string, string> = { [attachedNodeKey]: nodeId };
  for (const k of carriedParameterKeys) {
    const v = mutable[k];
    if (v !== undefined) ctx[k] = v;
  }
  return ctx;
}
