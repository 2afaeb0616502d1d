import { strict as assert } from 'node:assert';
import pino from 'pino';
import type { FileRunner } from '../../../src/isolation/fsHelperPool';
import type { FsRequest, ProbeResult } from '../../../src/isolation/fsOps';
import type { MountEntry } from '../../../src/mount/mountTable';
import { HealthMonitor } from '../../../src/health/healthMonitor';

const entry = (p: string): MountEntry => ({ mountId: 1, parentId: 0, device: '0:1', root: '/', mountPoint: p, options: [], fsType: 'tmpfs', source: 'dev', superOptions: [] });
const gone: ProbeResult = { ok: false, code: 'ENOENT', failedStep: 'stat', message: 'no such file or directory' };

/** A monitor whose probes stay open until the test answers them, and what its observer heard. */
function setup() {
  const pending: Array<(r: ProbeResult) => void> = [];
  const pool: Pick<FileRunner, 'run' | 'runTracked'> = {
    run: (() => Promise.reject(new Error('not used here'))) as FileRunner['run'],
    runTracked: ((req: FsRequest) => {
      assert.equal(req.op, 'probe');
      const result = new Promise<ProbeResult>((resolve) => pending.push(resolve));
      return { result, gone: result.then(() => undefined) };
    }) as FileRunner['runTracked'],
  };
  const reported: string[] = [];
  const monitor = new HealthMonitor({
    pool,
    readTable: async () => [entry('/a')],
    clock: { now: () => 1_000_000, random: () => 0 },
    logger: pino({ level: 'silent' }),
    intervalMs: 10_000,
    timeoutMs: 1_000,
    failureThreshold: 1,
    successThreshold: 1,
    concurrency: 2,
    observer: {
      probeDone: (m, _s, issue) => reported.push(`${m.reg.volumeId}:${issue?.reason ?? 'ok'}`),
      stateChanged: (m, from) => reported.push(`${m.reg.volumeId}:${from}->${m.state}`),
    },
  });
  const started = async (): Promise<void> => {
    for (let i = 0; i < 20 && pending.length === 0; i++) await new Promise((r) => setImmediate(r));
    assert.equal(pending.length, 1, 'the probe is running');
  };
  return { monitor, pending, reported, started };
}

const reg = (volumeId: string) => ({ volumeId, path: '/a', kind: 'publish' as const, readOnly: false, expectedSource: '' });

/**
 * An unpublish unregisters its mount, unmounts it and removes the directory while a probe of
 * that mount may still be running. What that probe then sees (ENOENT, not mounted) is the
 * unpublish, not a fault: it must not count as a probe error (metrics) nor land on a mount
 * registered at the same path since.
 */
describe('HealthMonitor: a probe that finishes after its mount was unregistered', () => {
  it('reports a failed probe of a mount that is still registered (the control case)', async () => {
    const { monitor, pending, reported, started } = setup();
    monitor.register(reg('vol-a'));
    const probing = monitor.probe(monitor.get('/a')!);
    await started();
    pending[0]!(gone);
    await probing;
    assert.deepEqual(reported, ['vol-a:unknown->unhealthy', 'vol-a:VolumeNotFound']);
  });

  it('drops the result when the mount was unregistered meanwhile', async () => {
    const { monitor, pending, reported, started } = setup();
    monitor.register(reg('vol-a'));
    const probing = monitor.probe(monitor.get('/a')!);
    await started();
    monitor.unregister('/a');
    pending[0]!(gone);
    await probing;
    assert.deepEqual(reported, []);
    assert.equal(monitor.get('/a'), undefined);
  });

  it('does not apply the old result to another volume registered at the same path meanwhile', async () => {
    const { monitor, pending, reported, started } = setup();
    monitor.register(reg('vol-a'));
    const probing = monitor.probe(monitor.get('/a')!);
    await started();
    monitor.unregister('/a');
    monitor.register(reg('vol-b'));
    pending[0]!(gone);
    await probing;
    assert.deepEqual(reported, []);
    assert.equal(monitor.get('/a')?.state, 'unknown');
    assert.deepEqual(monitor.issuesOf('/a'), []);
  });
});
