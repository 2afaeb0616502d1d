import { strict as assert } from 'node:assert';
import { IsolatedFsError } from '../../../src/isolation/isolationErrors';
import { CsiError } from '../../../src/grpc/csiError';
import { callerPathErrors, mountOverlap } from '../../../src/node/nodePathPolicy';

const invalid = (err: unknown) => err instanceof CsiError && err.code === 3;

describe('node path policy: where mounts may go', () => {
  const kubelet = '/var/lib/kubelet';
  const own = new Set([`${kubelet}/plugins/staging/v1`, `${kubelet}/pods/p1/volumes/mount`]);
  const table = ['/', kubelet, `${kubelet}/pods`, ...own];
  const isOwn = (m: string) => own.has(m);

  it("lets a new mount go next to the others, and inside mounts that are not the driver's (a pods directory on a disk of its own)", () => {
    assert.equal(mountOverlap(`${kubelet}/pods/p2/volumes/mount`, table, isOwn), undefined);
    assert.equal(mountOverlap(`${kubelet}/plugins/staging/v1`, table, isOwn), undefined, 'the same place is a retry, not an overlap');
  });

  it('refuses a mount inside one of its own mounts, or over mounts', () => {
    assert.match(mountOverlap(`${kubelet}/plugins/staging/v1/nested`, table, isOwn) ?? '', /inside the mount/);
    assert.match(mountOverlap(`${kubelet}/plugins`, table, isOwn) ?? '', /would cover/);
  });

  it("turns errors caused by the caller's own path into INVALID_ARGUMENT, and leaves other errors alone", async () => {
    const fail = (p: string, code: string) => () => Promise.reject(new IsolatedFsError('mkdir', p, code, code));
    await assert.rejects(callerPathErrors(['/k/a'], fail('/k/a', 'ENAMETOOLONG')), invalid);
    await assert.rejects(callerPathErrors(['/k/a'], fail('/k/a', 'ENOTDIR')), invalid);
    await assert.rejects(callerPathErrors(['/k/a'], fail('/k/a', 'EIO')), IsolatedFsError);
    await assert.rejects(callerPathErrors(['/k/a'], fail('/share/x', 'ENOTDIR')), IsolatedFsError);
  });
});
