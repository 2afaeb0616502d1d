import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { aborted, CsiError } from './csiError';
import { toGrpcStatus } from './toGrpcStatus';
import { forTheLog, redactSecrets } from './redact';
import { statusDetails } from './statusDetails';
import type { VolumeLocks } from './volumeLocks';
import { idFromName } from '../backend/ids';

/** What a handler learns about its call besides the request. */
export interface CallContext {
  logger: Logger;
  /**
   * Aborts when the client is gone: the call was cancelled or its deadline passed. Long handlers
   * check it between steps (signal.throwIfAborted()) so that no work goes on for nobody.
   */
  signal?: AbortSignal;
}

/**
 * An AbortSignal for a call: aborted (with a CsiError as its reason) when grpc-js reports the
 * call cancelled or when the call's deadline passes. Returns it with a function that stops watching.
 */
export function callSignal(call: Pick<grpc.ServerUnaryCall<unknown, unknown>, 'on' | 'removeListener' | 'getDeadline'>): {
  signal: AbortSignal;
  done: () => void;
} {
  const ac = new AbortController();
  const onCancel = (): void => ac.abort(new CsiError(grpc.status.CANCELLED, 'the client cancelled the call'));
  call.on('cancelled', onCancel);
  const deadline = call.getDeadline();
  const at = deadline instanceof Date ? deadline.getTime() : Number(deadline);
  const timer = Number.isFinite(at)
    ? setTimeout(
        () => ac.abort(new CsiError(grpc.status.DEADLINE_EXCEEDED, 'the deadline of the call passed')),
        Math.max(0, at - Date.now()),
      )
    : undefined;
  timer?.unref();
  return {
    signal: ac.signal,
    done: () => {
      if (timer) clearTimeout(timer);
      call.removeListener('cancelled', onCancel);
    },
  };
}

/**
 * The service type derived from the generated grpc handlers: every RPC becomes
 * `(req, ctx) => Promise<res>`, so a missing RPC is a compile error.
 */
export type AsyncService<H> = {
  [K in keyof H as string extends K ? never : K]: H[K] extends grpc.handleUnaryCall<infer Req, infer Res>
    ? (req: Req, ctx: CallContext) => Promise<Res>
    : never;
};

/** Told of every finished RPC, for metrics. */
export type RpcObserver = (rpc: string, code: grpc.status, seconds: number) => void;

export interface UnaryDeps {
  logger: Logger;
  locks: VolumeLocks;
  observe?: RpcObserver;
  /** RPCs served as UNIMPLEMENTED (attach when off): no lock, so that they always answer so. */
  unlocked?: ReadonlySet<string>;
}

type AnyRequest = Record<string, unknown>;

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/**
 * Mutating RPCs lock every volume and snapshot they touch, by id. A create knows its id before it
 * starts (the id is derived from the name), so a create and a delete of the same id never
 * interleave, and neither do a snapshot or clone and a delete (or expansion, or mount) of its source.
 * Node calls also lock the paths they mount on, bind from or unmount: calls of two volumes on one
 * path would otherwise stack mounts there, and on a shared mount tree a mount stacked on a
 * staging mount propagates onto the volume's directory in the share.
 */
export function lockKeysFor(rpc: string, req: AnyRequest): string[] {
  const volume = (id: string): string[] => (id ? [`volume:${id}`] : []);
  const snapshot = (id: string): string[] => (id ? [`snapshot:${id}`] : []);
  const group = (id: string): string[] => (id ? [`groupsnapshot:${id}`] : []);
  const strList = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  const named = (name: string): string => (name ? idFromName(name) : '');
  // Normalised as the node service normalises its paths, so that "/a//b/" and "/a/b" meet.
  const mountPath = (p: string): string[] => (p ? [`path:${path.posix.normalize(p).replace(/(.)\/+$/, '$1')}`] : []);
  switch (rpc) {
    case 'CreateVolume': {
      const src = req.volume_content_source as { snapshot?: AnyRequest; volume?: AnyRequest } | null | undefined;
      return [...volume(named(str(req.name))), ...snapshot(str(src?.snapshot?.snapshot_id)), ...volume(str(src?.volume?.volume_id))];
    }
    case 'CreateSnapshot':
      return [...snapshot(named(str(req.name))), ...volume(str(req.source_volume_id))];
    case 'DeleteSnapshot':
      return snapshot(str(req.snapshot_id));
    case 'CreateVolumeGroupSnapshot':
      return [...group(named(str(req.name))), ...strList(req.source_volume_ids).flatMap(volume)];
    case 'DeleteVolumeGroupSnapshot':
      return [...group(str(req.group_snapshot_id)), ...strList(req.snapshot_ids).flatMap(snapshot)];
    case 'ControllerPublishVolume':
    case 'ControllerUnpublishVolume':
      // One attach or detach per node at a time, so that two cannot both take its last slot.
      return [...volume(str(req.volume_id)), ...(str(req.node_id) ? [`node:${str(req.node_id)}`] : [])];
    case 'NodeStageVolume':
    case 'NodeUnstageVolume':
      return [...volume(str(req.volume_id)), ...mountPath(str(req.staging_target_path))];
    case 'NodePublishVolume':
      return [...volume(str(req.volume_id)), ...mountPath(str(req.target_path)), ...mountPath(str(req.staging_target_path))];
    case 'NodeUnpublishVolume':
      return [...volume(str(req.volume_id)), ...mountPath(str(req.target_path))];
    case 'DeleteVolume':
    case 'ControllerExpandVolume':
    case 'ControllerModifyVolume':
    case 'NodeExpandVolume':
      return volume(str(req.volume_id));
    default:
      return [];
  }
}

function volumeIdOf(req: AnyRequest): string | undefined {
  return (
    str(req.volume_id) || str(req.source_volume_id) || str(req.snapshot_id) || str(req.group_snapshot_id) || str(req.name) || undefined
  );
}

/**
 * Wraps one async handler as a grpc-js unary handler: a child logger per call, the per-volume
 * lock, and the mapping of every error to a status (unexpected ones become INTERNAL
 * "internal error" with the stack in the log only).
 */
export function unary<Req, Res>(
  rpc: string,
  handler: (req: Req, ctx: CallContext) => Promise<Res>,
  deps: UnaryDeps,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const start = process.hrtime.bigint();
    const req = call.request as unknown as AnyRequest;
    const logger = deps.logger.child({ rpc, volumeId: volumeIdOf(req) });
    if (logger.isLevelEnabled('debug')) logger.debug({ request: forTheLog(redactSecrets(req)) }, 'request');
    const finish = (code: grpc.status, err?: unknown, res?: Res, message?: string): void => {
      const details = statusDetails(message ?? '');
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      deps.observe?.(rpc, code, seconds);
      const fields = { code: grpc.status[code], durationMs: Math.round(seconds * 1e4) / 10 };
      if (code === grpc.status.OK) {
        logger.info(fields, 'ok');
        callback(null, res);
      } else {
        if (code === grpc.status.INTERNAL) logger.error({ ...fields, err }, 'failed');
        else logger.warn({ ...fields, details }, 'failed');
        callback({ code, details, metadata: new grpc.Metadata(), name: 'CsiError', message: details });
      }
    };
    const keys = deps.unlocked?.has(rpc) ? [] : lockKeysFor(rpc, req);
    const release = deps.locks.tryAcquire(...keys);
    if (!release) {
      const err = aborted(`an operation on ${keys.join(' or ')} is already in progress`);
      finish(err.code, err, undefined, err.message);
      return;
    }
    const watch = callSignal(call);
    let promise: Promise<Res>;
    try {
      promise = handler(call.request, { logger, signal: watch.signal });
    } catch (err) {
      promise = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    promise.then(
      (res) => {
        watch.done();
        release();
        finish(grpc.status.OK, undefined, res);
      },
      (err: unknown) => {
        watch.done();
        release();
        const mapped = toGrpcStatus(err);
        finish(mapped.code, err, undefined, mapped.details);
      },
    );
  };
}

/** Wraps every RPC of a service implementation with unary(). */
export function bindService<S extends object>(impl: S, deps: UnaryDeps): grpc.UntypedServiceImplementation {
  const out: grpc.UntypedServiceImplementation = {};
  for (const [rpc, fn] of Object.entries(impl) as Array<[string, (req: unknown, ctx: CallContext) => Promise<unknown>]>) {
    out[rpc] = unary(rpc, fn.bind(impl), deps);
  }
  return out;
}
