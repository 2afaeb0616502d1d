import { strict as assert } from 'node:assert';
import pino from 'pino';
import { stageSettings, type StageSettingsDeps } from '../../../src/node/stageSettings';
import { toGrpcStatus } from '../../../src/grpc/toGrpcStatus';

const deps = (extra: Partial<StageSettingsDeps> = {}): StageSettingsDeps => ({
  nodeId: 'node-1',
  attach: false,
  defaultIntervalMs: 30_000,
  defaultTimeoutMs: 5_000,
  logger: pino({ level: 'silent' }),
  ...extra,
});
const code = (n: number) => (err: unknown) => toGrpcStatus(err).code === n && !toGrpcStatus(err).unexpected;

describe('stageSettings', () => {
  it('takes the schedule of the volume context when nothing newer is known', async () => {
    const s = await stageSettings(deps(), 'v', { volumeDir: 'volumes/v/data', healthCheckInterval: '10s', healthCheckTimeout: '2s' }, {});
    assert.deepEqual(s.schedule, { intervalMs: 10_000, timeoutMs: 2_000 });
  });

  it('prefers the current parameters read from the share, then those of the publish context with attach', async () => {
    const current = async () => ({ healthCheckInterval: '20s', mountOptions: 'hard' });
    const s1 = await stageSettings(deps({ currentParameters: current }), 'v', { healthCheckInterval: '10s' }, {});
    assert.equal(s1.schedule.intervalMs, 20_000);
    assert.equal(s1.context.mountOptions, 'hard');
    const s2 = await stageSettings(
      deps({ currentParameters: current, attach: true }),
      'v',
      { healthCheckInterval: '10s' },
      { attachedNode: 'node-1', healthCheckInterval: '40s' },
    );
    assert.equal(s2.schedule.intervalMs, 40_000);
  });

  it('falls back to the volume context when the share cannot be read', async () => {
    const s = await stageSettings(
      deps({ currentParameters: () => Promise.reject(new Error('EIO')) }),
      'v',
      { healthCheckInterval: '10s' },
      {},
    );
    assert.equal(s.schedule.intervalMs, 10_000);
  });

  it("keeps the deadline inside a short interval when only the interval is the volume's own", async () => {
    const s = await stageSettings(deps({ defaultTimeoutMs: 8_000 }), 'v', { healthCheckInterval: '6s' }, {});
    assert.deepEqual(s.schedule, { intervalMs: 6_000, timeoutMs: 3_000 });
  });

  it('refuses malformed values from a context with INVALID_ARGUMENT', async () => {
    await assert.rejects(stageSettings(deps(), 'v', { healthCheckInterval: '1ms' }, {}), code(3));
    await assert.rejects(stageSettings(deps({ attach: true }), 'v', {}, { attachedNode: 'node-1', healthCheckTimeout: 'never' }), code(3));
  });

  it('with attach, requires the publish context of this node (FAILED_PRECONDITION)', async () => {
    await assert.rejects(stageSettings(deps({ attach: true }), 'v', {}, {}), code(9));
    await assert.rejects(stageSettings(deps({ attach: true }), 'v', {}, { attachedNode: 'node-2' }), code(9));
    await stageSettings(deps({ attach: true }), 'v', {}, { attachedNode: 'node-1' });
  });

  it('without attach, ignores a publish context (nothing there is trusted)', async () => {
    const s = await stageSettings(deps(), 'v', {}, { attachedNode: 'x', healthCheckInterval: '10s', mountOptions: 'soft' });
    assert.deepEqual(s.schedule, {});
    assert.equal(s.context.mountOptions, undefined);
  });
});
