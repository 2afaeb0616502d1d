import { strict as assert } from 'node:assert';
import { status } from '@grpc/grpc-js';
import { toGrpcStatus } from '../../../src/grpc/toGrpcStatus';
import { CsiError, notFound } from '../../../src/grpc/csiError';
import {
  HelpersExhaustedError,
  IsolatedFsError,
  IsolationBrokenError,
  IsolationTimeoutError,
} from '../../../src/isolation/isolationErrors';
import { UnmountBusyError } from '../../../src/mount/mounter';
import { CommandFailedError, CommandTimeoutError } from '../../../src/mount/runCommand';
import { ShareFullError, VolumeContentChangedError } from '../../../src/backend/shareErrors';
import {
  InvalidIdentifierError,
  MountPlanError,
  MountUnsupportedError,
  NoShareMountError,
  ShareUnavailableError,
} from '../../../src/backend/backendErrors';
import { MountOptionError } from '../../../src/backend/nfsMountOptions';

describe('toGrpcStatus', () => {
  it('maps each backend error to the code that tells the CO what to do, keeping its message', () => {
    const cases: Array<[Error, status]> = [
      [new InvalidIdentifierError('volume_id contains ".."'), status.INVALID_ARGUMENT],
      [new MountPlanError('per-volume mount options: mount option "suid" would weaken "nosuid"'), status.INVALID_ARGUMENT],
      [new MountOptionError('mount option "bg" is not supported'), status.INVALID_ARGUMENT],
      [new MountUnsupportedError('EFS access point fsap-1 needs mount -t efs'), status.FAILED_PRECONDITION],
      [new NoShareMountError('this node plugin has no controller share mount'), status.FAILED_PRECONDITION],
      [new ShareUnavailableError('cannot mount the share'), status.UNAVAILABLE],
    ];
    for (const [err, code] of cases) assert.deepEqual(toGrpcStatus(err), { code, details: err.message, unexpected: false }, err.name);
  });

  it('keeps the code and message of a CsiError', () => {
    assert.deepEqual(toGrpcStatus(notFound('volume v1 does not exist')), {
      code: status.NOT_FOUND,
      details: 'volume v1 does not exist',
      unexpected: false,
    });
    assert.equal(toGrpcStatus(new CsiError(status.RESOURCE_EXHAUSTED, 'full')).code, status.RESOURCE_EXHAUSTED);
  });

  it('turns an unknown error into INTERNAL "internal error" without its message or stack', () => {
    const err = new TypeError('Cannot read properties of undefined (reading "secret-path")');
    const mapped = toGrpcStatus(err);
    assert.deepEqual(mapped, { code: status.INTERNAL, details: 'internal error', unexpected: true });
    assert.ok(!mapped.details.includes('at '), 'no stack frame');
  });

  it('treats thrown non-errors as our bug too', () => {
    for (const thrown of ['a string', 42, undefined, null, { code: status.NOT_FOUND }]) {
      assert.deepEqual(toGrpcStatus(thrown), { code: status.INTERNAL, details: 'internal error', unexpected: true });
    }
  });

  it('maps storage errors to the code that tells the CO what to do', () => {
    const fs = (code: string) => new IsolatedFsError('mkdir', '/share/x', code, `${code}: failed`);
    assert.equal(toGrpcStatus(fs('ENOSPC')).code, status.RESOURCE_EXHAUSTED);
    assert.equal(toGrpcStatus(fs('EDQUOT')).code, status.RESOURCE_EXHAUSTED);
    for (const c of ['ESTALE', 'ENOTCONN', 'EIO', 'ETIMEDOUT']) assert.equal(toGrpcStatus(fs(c)).code, status.UNAVAILABLE, c);
    assert.equal(toGrpcStatus(fs('EROFS')).code, status.FAILED_PRECONDITION);
    const other = toGrpcStatus(fs('EACCES'));
    assert.equal(other.code, status.INTERNAL);
    assert.equal(other.unexpected, false, 'a known storage error is not our bug');
  });

  it('maps a broken isolation layer to UNAVAILABLE and a mount that stays busy to FAILED_PRECONDITION, with their messages', () => {
    const broken = toGrpcStatus(new IsolationBrokenError('readdir', 'thread-died', 'the file helper thread died'));
    assert.equal(broken.code, status.UNAVAILABLE);
    assert.match(broken.details, /file helpers unavailable \(thread-died\)/);
    assert.equal(broken.unexpected, false);
    const busy = toGrpcStatus(new UnmountBusyError('/var/lib/kubelet/pods/p/mount'));
    assert.deepEqual(busy, {
      code: status.FAILED_PRECONDITION,
      details: '/var/lib/kubelet/pods/p/mount is still mounted after repeated umount',
      unexpected: false,
    });
  });

  it('maps a hung helper to UNAVAILABLE and a command timeout to DEADLINE_EXCEEDED', () => {
    assert.equal(toGrpcStatus(new IsolationTimeoutError('stat', '/mnt/x', 2000)).code, status.UNAVAILABLE);
    assert.equal(toGrpcStatus(new HelpersExhaustedError(4)).code, status.UNAVAILABLE);
    assert.equal(toGrpcStatus(new CommandTimeoutError('umount /mnt/x', 5000)).code, status.DEADLINE_EXCEEDED);
    const failed = toGrpcStatus(
      new CommandFailedError('mount --bind a b', { code: 32, stdout: '', stderr: 'mount: b: special device a does not exist' }),
    );
    assert.equal(failed.code, status.INTERNAL);
    assert.match(failed.details, /special device/);
  });

  it('maps a full share to RESOURCE_EXHAUSTED, a volume changing under an archive to ABORTED, a tree past its bounds to FAILED_PRECONDITION', () => {
    assert.equal(toGrpcStatus(new ShareFullError('snapshot', 'ENOSPC')).code, status.RESOURCE_EXHAUSTED);
    assert.equal(toGrpcStatus(new ShareFullError('restore', 'EDQUOT')).code, status.RESOURCE_EXHAUSTED);
    assert.equal(
      toGrpcStatus(new VolumeContentChangedError('snapshot', 'tar: ./a: Cannot open: Too many levels of symbolic links')).code,
      status.ABORTED,
    );
    const limit = toGrpcStatus(
      new IsolatedFsError('treeCopy', '/share/volumes/v/data', 'ETREELIMIT', 'the tree is deeper than 256 levels'),
    );
    assert.equal(limit.code, status.FAILED_PRECONDITION);
    assert.match(limit.details, /deeper than 256/);
  });
});
