import { strict as assert } from 'node:assert';
import type { StorageIssue } from '../../src/backend/storageIssue';
import { driverReadiness } from '../../src/driverReadiness';
import type { HealthMonitor } from '../../src/health/healthMonitor';
import type { HealthIssue } from '../../src/health/healthIssue';

type MonitorView = Pick<HealthMonitor, 'all' | 'issuesOf' | 'storageIssues'>;

function monitorWith(issuesByPath: Record<string, HealthIssue[]>, storage: StorageIssue[]): MonitorView {
  return {
    all: () => Object.keys(issuesByPath).map((p) => ({ reg: { path: p } }) as unknown as ReturnType<MonitorView['all']>[number]),
    issuesOf: (p) => issuesByPath[p] ?? [],
    storageIssues: () => storage,
  };
}

describe('driverReadiness', () => {
  it('is ready with no problems and no storage issues when every mount and the share are fine', () => {
    assert.deepEqual(driverReadiness(monitorWith({ '/k/a': [] }, []))(), { ok: true, problems: [], storage: [] });
  });

  it('hands the share problems over as data beside the words', () => {
    const unreachable: StorageIssue = {
      status: 'STORAGE_UNREACHABLE',
      reason: 'ShareUnresponsive',
      message: 'stat of /share did not answer within 5000ms',
      code: 'ETIMEDOUT',
    };
    const ready = driverReadiness(
      monitorWith({ '/k/a': [{ status: 'INACCESSIBLE', reason: 'MountUnresponsive', message: 'no answer' }] }, [unreachable]),
    )();
    assert.equal(ready.ok, false);
    assert.deepEqual(ready.storage, [unreachable]);
    assert.deepEqual(ready.problems, [
      '/k/a: MountUnresponsive',
      'storage: ShareUnresponsive: stat of /share did not answer within 5000ms',
    ]);
  });
});
