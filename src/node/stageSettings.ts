import type { Logger } from 'pino';
import { attachedNodeKey, carriedParameterKeys } from '../backend/attachContext';
import { healthDurations } from '../backend/healthParameters';
import { failedPrecondition } from '../grpc/csiError';
import type { MountSchedule } from './mountSchedule';

/** Reads a volume's current mutable parameters from the share, where this node can reach it. */
export type CurrentParameters = (volumeId: string) => Promise<Record<string, string>>;

export interface StageSettingsDeps {
  nodeId: string;
  /** --enable-attach: NodeStage requires the publish context of ControllerPublishVolume. */
  attach: boolean;
  /** The local backend reads the share; NFS nodes do not mount the share root. */
  currentParameters?: CurrentParameters;
  /** The monitor's own interval, to keep a volume's timeout below its interval. */
  defaultIntervalMs: number;
  defaultTimeoutMs: number;
  logger: Logger;
}

/** What a stage uses: the volume context with current mount options, and the volume's health schedule. */
export interface StageSettings {
  context: Record<string, string>;
  schedule: MountSchedule;
}

/**
 * The settings of a stage. A volume's mutable parameters (health interval and timeout, mount
 * options) come, later ones winning, from: the volume_context (their values at creation), the
 * volume's records on the share (local backend: read at every stage), and with attach the
 * publish_context (their values at attach time). Values are validated again here: a context is
 * input like any other (INVALID_ARGUMENT when bad).
 */
export async function stageSettings(
  deps: StageSettingsDeps,
  volumeId: string,
  volumeContext: Record<string, string>,
  publishContext: Record<string, string>,
): Promise<StageSettings> {
  if (deps.attach) {
    const node = publishContext[attachedNodeKey];
    if (!node)
      throw failedPrecondition(
        `volume ${volumeId} is not attached to this node: publish_context has no ${attachedNodeKey} (ControllerPublishVolume first)`,
      );
    if (node !== deps.nodeId)
      throw failedPrecondition(`volume ${volumeId} was attached to node ${node}, not to this node (${deps.nodeId})`);
  }
  const params: Record<string, string> = {};
  const take = (src: Record<string, string>): void => {
    for (const k of carriedParameterKeys) if (src[k] !== undefined) params[k] = src[k];
  };
  take(volumeContext);
  if (deps.currentParameters) {
    try {
      take(await deps.currentParameters(volumeId));
    } catch (err) {
      deps.logger.warn(
        { volumeId, err: (err as Error).message },
        'current volume parameters unreadable; using those of the volume context',
      );
    }
  }
  if (deps.attach) take(publishContext);
  const { intervalMs, timeoutMs } = healthDurations(params);
  const schedule: MountSchedule = {};
  if (intervalMs !== undefined) schedule.intervalMs = intervalMs;
  if (timeoutMs !== undefined) schedule.timeoutMs = timeoutMs;
  const interval = intervalMs ?? deps.defaultIntervalMs;
  // A per-volume interval below the node's timeout (or the reverse) keeps the deadline inside the interval.
  if ((timeoutMs ?? deps.defaultTimeoutMs) >= interval) schedule.timeoutMs = Math.floor(interval / 2);
  const context = { ...volumeContext };
  if (params.mountOptions !== undefined) context.mountOptions = params.mountOptions;
  return { context, schedule };
}
