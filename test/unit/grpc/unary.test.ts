import { EventEmitter } from 'node:events';
import { strict as assert } from 'node:assert';
import { Writable } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import * as sinon from 'sinon';
import { bindService, lockKeysFor, unary, type CallContext, type UnaryDeps } from '../../../src/grpc/unary';
import { idFromName } from '../../../src/backend/ids';
import { VolumeLocks } from '../../../src/grpc/volumeLocks';
import { invalidArgument } from '../../../src/grpc/csiError';

interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
}
function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A pino logger whose lines are kept for inspection. */
function memoryLogger(): { logger: pino.Logger; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  const logger = pino({ level: 'debug' }, sink);
  return {
    logger,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

type Callback = sinon.SinonSpy<[grpc.ServerErrorResponse | null, unknown?], void>;

/** Calls a wrapped handler with a fake call; resolves when the callback has been called. */
function invoke<Req>(
  handler: grpc.handleUnaryCall<Req, unknown>,
  request: Record<string, unknown>,
  deadline: number = Infinity,
): { callback: Callback; done: Promise<void>; call: EventEmitter } {
  const called = deferred<void>();
  const callback: Callback = sinon.spy((_err: grpc.ServerErrorResponse | null, _res?: unknown) => called.resolve());
  const call = Object.assign(new EventEmitter(), { request, getDeadline: () => deadline });
  handler(call as unknown as grpc.ServerUnaryCall<Req, unknown>, callback as unknown as grpc.sendUnaryData<unknown>);
  return { callback, done: called.promise, call };
}

const errorOf = (cb: Callback): grpc.ServerErrorResponse => {
  const err = cb.firstCall.args[0];
  assert.ok(err, 'the call failed');
  return err;
};

describe('unary()', () => {
  let deps: UnaryDeps;
  let log: ReturnType<typeof memoryLogger>;
  beforeEach(() => {
    log = memoryLogger();
    deps = { logger: log.logger, locks: new VolumeLocks(), observe: sinon.spy() };
  });

  it('answers with the handler result and reports OK to the observer', async () => {
    const h = unary('ControllerGetVolume', async () => ({ volume: { volume_id: 'v1' } }), deps);
    const { callback, done } = invoke(h, { volume_id: 'v1' });
    await done;
    assert.deepEqual(callback.firstCall.args, [null, { volume: { volume_id: 'v1' } }]);
    sinon.assert.calledWith(deps.observe as sinon.SinonSpy, 'ControllerGetVolume', grpc.status.OK);
  });

  it('answers a CsiError with its own code and message', async () => {
    const h = unary(
      'DeleteVolume',
      async () => {
        throw invalidArgument('volume_id is required');
      },
      deps,
    );
    const { callback, done } = invoke(h, {});
    await done;
    const err = errorOf(callback);
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(err.details, 'volume_id is required');
  });

  it('answers an unexpected error with INTERNAL "internal error"; the stack goes to the log only', async () => {
    const h = unary(
      'CreateVolume',
      async () => {
        throw new Error('boom at /srv/secret/place');
      },
      deps,
    );
    const { callback, done } = invoke(h, { name: 'pvc-1' });
    await done;
    const err = errorOf(callback);
    assert.equal(err.code, grpc.status.INTERNAL);
    assert.equal(err.details, 'internal error');
    assert.ok(!JSON.stringify(err).includes('/srv/secret/place'), 'no message or stack reaches the client');
    const failed = log.lines().find((l) => l.msg === 'failed');
    assert.match(String((failed?.err as { stack?: string })?.stack), /boom at \/srv\/secret\/place/);
  });

  it('maps a handler that throws synchronously like one that rejects', async () => {
    const h = unary(
      'NodeGetInfo',
      () => {
        throw new TypeError('sync');
      },
      deps,
    );
    const { callback, done } = invoke(h, {});
    await done;
    assert.equal(errorOf(callback).code, grpc.status.INTERNAL);
  });

  it('answers ABORTED to a second concurrent operation on the same volume, and lets the first finish', async () => {
    const first = deferred<object>();
    const handler = sinon.stub().onFirstCall().returns(first.promise).onSecondCall().resolves({});
    const h = unary('NodePublishVolume', handler, deps);
    const a = invoke(h, { volume_id: 'v1', target_path: '/t1' });
    const b = invoke(h, { volume_id: 'v1', target_path: '/t2' });
    await b.done;
    assert.equal(errorOf(b.callback).code, grpc.status.ABORTED);
    sinon.assert.calledOnce(handler);
    first.resolve({});
    await a.done;
    assert.equal(a.callback.firstCall.args[0], null);
    const c = invoke(h, { volume_id: 'v1', target_path: '/t2' });
    await c.done;
    assert.equal(c.callback.firstCall.args[0], null, 'the lock was released after the first call');
  });

  it('runs operations on different volumes in parallel', async () => {
    const gates = { v1: deferred<object>(), v2: deferred<object>() };
    const started: string[] = [];
    const h = unary(
      'NodeStageVolume',
      (req: { volume_id: 'v1' | 'v2' }) => {
        started.push(req.volume_id);
        return gates[req.volume_id].promise;
      },
      deps,
    );
    const a = invoke(h, { volume_id: 'v1' });
    const b = invoke(h, { volume_id: 'v2' });
    assert.deepEqual(started, ['v1', 'v2'], 'both started before either finished');
    gates.v2.resolve({});
    await b.done;
    gates.v1.resolve({});
    await a.done;
    assert.equal(a.callback.firstCall.args[0], null);
    assert.equal(b.callback.firstCall.args[0], null);
  });

  it('releases the lock when the handler fails', async () => {
    const handler = sinon.stub().onFirstCall().rejects(invalidArgument('bad')).onSecondCall().resolves({});
    const h = unary('DeleteVolume', handler, deps);
    await invoke(h, { volume_id: 'v1' }).done;
    const again = invoke(h, { volume_id: 'v1' });
    await again.done;
    assert.equal(again.callback.firstCall.args[0], null);
    assert.equal(deps.locks.size, 0);
  });

  it('takes no lock for read-only RPCs, so they never see ABORTED', async () => {
    const gate = deferred<object>();
    const h = unary('ControllerGetVolume', () => gate.promise, deps);
    const a = invoke(h, { volume_id: 'v1' });
    const b = invoke(h, { volume_id: 'v1' });
    gate.resolve({});
    await Promise.all([a.done, b.done]);
    assert.equal(a.callback.firstCall.args[0], null);
    assert.equal(b.callback.firstCall.args[0], null);
  });

  it('aborts the signal of a call the client cancelled, with CANCELLED as its reason, and the handler stops', async () => {
    let steps = 0;
    const handler = unary(
      'ListVolumes',
      async (_req: unknown, ctx: CallContext) => {
        for (;;) {
          ctx.signal?.throwIfAborted();
          steps++;
          await new Promise((r) => setImmediate(r));
        }
      },
      deps,
    );
    const c = invoke(handler, {});
    await new Promise((r) => setImmediate(r));
    c.call.emit('cancelled', 'cancelled');
    await c.done;
    assert.equal(errorOf(c.callback).code, grpc.status.CANCELLED);
    const seen = steps;
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(steps, seen, 'no step ran after the cancellation');
  });

  it('aborts the signal once the deadline of the call has passed', async () => {
    const handler = unary(
      'ListVolumes',
      (_req: unknown, ctx: CallContext) =>
        new Promise<never>((_resolve, reject) => ctx.signal?.addEventListener('abort', () => reject(ctx.signal?.reason as Error))),
      deps,
    );
    const c = invoke(handler, {}, Date.now() + 30);
    await c.done;
    assert.equal(errorOf(c.callback).code, grpc.status.DEADLINE_EXCEEDED);
  });

  it('takes no lock for the RPCs named unlocked (served as UNIMPLEMENTED), so a concurrent one is never ABORTED', async () => {
    const gate = deferred<object>();
    const h = unary('ControllerPublishVolume', () => gate.promise, { ...deps, unlocked: new Set(['ControllerPublishVolume']) });
    const a = invoke(h, { volume_id: 'v1', node_id: 'n1' });
    const b = invoke(h, { volume_id: 'v1', node_id: 'n1' });
    assert.equal(deps.locks.size, 0);
    gate.resolve({});
    await Promise.all([a.done, b.done]);
    assert.equal(b.callback.firstCall.args[0], null);
  });

  it('never writes secrets to the log', async () => {
    const h = unary('NodeStageVolume', async () => ({}), deps);
    await invoke(h, { volume_id: 'v1', secrets: { password: 'hunter2' } }).done;
    const text = JSON.stringify(log.lines());
    assert.ok(!text.includes('hunter2'));
    assert.ok(text.includes('[REDACTED]'));
  });
});

describe('lockKeysFor', () => {
  it('locks every volume RPC by volume id, CreateVolume by the id its name gives', () => {
    assert.deepEqual(lockKeysFor('CreateVolume', { name: 'pvc-1' }), ['volume:pvc-1']);
    assert.deepEqual(lockKeysFor('CreateVolume', { name: 'My Claim' }), [`volume:${idFromName('My Claim')}`]);
    assert.deepEqual(lockKeysFor('DeleteVolume', { volume_id: 'pvc-1' }), ['volume:pvc-1']);
    assert.deepEqual(lockKeysFor('NodeUnpublishVolume', { volume_id: 'pvc-1' }), ['volume:pvc-1']);
    assert.deepEqual(lockKeysFor('DeleteSnapshot', { snapshot_id: 's' }), ['snapshot:s']);
  });

  it('locks the source of a snapshot or clone as well, so that a delete of the source waits its turn', () => {
    assert.deepEqual(lockKeysFor('CreateSnapshot', { name: 'snap-1', source_volume_id: 'pvc-1' }), ['snapshot:snap-1', 'volume:pvc-1']);
    assert.deepEqual(lockKeysFor('CreateVolume', { name: 'pvc-2', volume_content_source: { volume: { volume_id: 'pvc-1' } } }), [
      'volume:pvc-2',
      'volume:pvc-1',
    ]);
    assert.deepEqual(lockKeysFor('CreateVolume', { name: 'pvc-2', volume_content_source: { snapshot: { snapshot_id: 'snap-1' } } }), [
      'volume:pvc-2',
      'snapshot:snap-1',
    ]);
    assert.deepEqual(lockKeysFor('CreateVolume', { name: 'pvc-2', volume_content_source: null }), ['volume:pvc-2']);
  });

  it('locks the paths a node call mounts on, binds from or unmounts, so that calls of two volumes on one path never interleave', () => {
    assert.deepEqual(lockKeysFor('NodeStageVolume', { volume_id: 'v1', staging_target_path: '/k/s//v1/' }), ['volume:v1', 'path:/k/s/v1']);
    assert.deepEqual(lockKeysFor('NodeUnstageVolume', { volume_id: 'v2', staging_target_path: '/k/s/v1' }), ['volume:v2', 'path:/k/s/v1']);
    assert.deepEqual(lockKeysFor('NodePublishVolume', { volume_id: 'v1', staging_target_path: '/k/s/v1', target_path: '/k/p/t' }), [
      'volume:v1',
      'path:/k/p/t',
      'path:/k/s/v1',
    ]);
    assert.deepEqual(lockKeysFor('NodeUnpublishVolume', { volume_id: 'v1', target_path: '/k/p/t' }), ['volume:v1', 'path:/k/p/t']);
  });

  it('locks a group snapshot by the id its name gives and all its source volumes; its delete by id and the members named', () => {
    assert.deepEqual(lockKeysFor('CreateVolumeGroupSnapshot', { name: 'group-1', source_volume_ids: ['pvc-1', 'pvc-2'] }), [
      'groupsnapshot:group-1',
      'volume:pvc-1',
      'volume:pvc-2',
    ]);
    assert.deepEqual(lockKeysFor('DeleteVolumeGroupSnapshot', { group_snapshot_id: 'group-1', snapshot_ids: ['s1', 's2'] }), [
      'groupsnapshot:group-1',
      'snapshot:s1',
      'snapshot:s2',
    ]);
    assert.deepEqual(lockKeysFor('GetVolumeGroupSnapshot', { group_snapshot_id: 'group-1' }), []);
  });

  it('locks a modified volume, and an attach or detach by volume and node (one slot change per node at a time)', () => {
    assert.deepEqual(lockKeysFor('ControllerModifyVolume', { volume_id: 'pvc-1' }), ['volume:pvc-1']);
    assert.deepEqual(lockKeysFor('ControllerPublishVolume', { volume_id: 'pvc-1', node_id: 'n1' }), ['volume:pvc-1', 'node:n1']);
    assert.deepEqual(lockKeysFor('ControllerUnpublishVolume', { volume_id: 'pvc-1', node_id: '' }), ['volume:pvc-1']);
  });

  it('takes no lock for reads or for a request without the id', () => {
    for (const rpc of ['ControllerGetVolume', 'ListVolumes', 'NodeGetVolumeStats', 'GetCapacity', 'ValidateVolumeCapabilities']) {
      assert.deepEqual(lockKeysFor(rpc, { volume_id: 'v1' }), [], rpc);
    }
    assert.deepEqual(lockKeysFor('DeleteVolume', {}), []);
    assert.deepEqual(lockKeysFor('CreateSnapshot', {}), []);
  });
});

describe('bindService', () => {
  it('wraps every RPC of a service as a grpc handler, calling it with its service as this', async () => {
    const impl = {
      async NodeGetInfo(this: { nodeIdOf(): string }) {
        return { node_id: this.nodeIdOf() };
      },
      nodeIdOf: () => 'node-1',
    };
    const bound = bindService(impl, { logger: pino({ level: 'silent' }), locks: new VolumeLocks() });
    assert.deepEqual(Object.keys(bound).sort(), ['NodeGetInfo', 'nodeIdOf']);
    const { callback, done } = invoke(bound.NodeGetInfo as grpc.handleUnaryCall<unknown, unknown>, {});
    await done;
    assert.deepEqual(callback.firstCall.args, [null, { node_id: 'node-1' }]);
  });
});
