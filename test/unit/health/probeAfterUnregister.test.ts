import { strict as assert } from 'node:assert';
import pino from 'pino';
import type { ProbeResult } from '../../../src/isolation/fsOps';
import { FakeIsolation } from '../../helpers/fakeIsolation';
import { tableEntry as entry } from '../../helpers/monitorFixtures';
import { HealthMonitor } from '../../../src/health/healthMonitor';

const gone: ProbeResult = { ok: false, code: 'ENOENT', failedStep: 'stat', message: 'no such file or directory' };

/** A monitor whose probe rounds stay open until the test finishes them, and what its observer heard. */
function setup() {
  const pool = new FakeIsolation(undefined);
  pool.holdRounds = true;
  pool.answer = () => gone;
  let now = 1_000_000;
  const reported: string[] = [];
  const monitor = new HealthMonitor({
    isolation: pool,
    readTable: async () => [entry('/a')],
    clock: { now: () => now, random: () => 0 },
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
  const flush = async (): Promise<void> => {
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
  };
  /** Starts the first probe of /a and waits until its round is out. */
  const probing = async (): Promise<void> => {
    now += 5_000;
    monitor.tick();
    await flush();
    assert.equal(pool.rounds.length, 1, 'the probe is running');
  };
  const finish = async (): Promise<void> => {
    pool.finishHeld();
    await flush();
  };
  return { monitor, reported, probing, finish };
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
    const { monitor, reported, probing, finish } = setup();
    monitor.register(reg('vol-a'));
    await probing();
    await finish();
    assert.deepEqual(reported, ['vol-a:unknown->unhealthy', 'vol-a:VolumeNotFound']);
  });

  it('drops the result when the mount was unregistered meanwhile', async () => {
    const { monitor, reported, probing, finish } = setup();
    monitor.register(reg('vol-a'));
    await probing();
    monitor.unregister('/a');
    await finish();
    assert.deepEqual(reported, []);
    assert.equal(monitor.get('/a'), undefined);
  });

  it('does not apply the old result to another volume registered at the same path meanwhile', async () => {
    const { monitor, reported, probing, finish } = setup();
    monitor.register(reg('vol-a'));
    await probing();
    monitor.unregister('/a');
    monitor.register(reg('vol-b'));
    await finish();
    assert.deepEqual(reported, []);
    assert.equal(monitor.get('/a')?.state, 'unknown');
    assert.deepEqual(monitor.issuesOf('/a'), []);
  });
});
