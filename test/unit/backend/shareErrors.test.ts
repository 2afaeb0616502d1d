import { strict as assert } from 'node:assert';
import { ShareFullError, tarFailure, VolumeContentChangedError } from '../../../src/backend/shareErrors';
import { CommandFailedError } from '../../../src/mount/runCommand';

const res = (stderr: string) => ({ code: 2, stdout: '', stderr });

describe('tarFailure', () => {
  it('names a full share or an exhausted quota, whoever of tar and gzip says so', () => {
    const full = tarFailure(
      'snapshot',
      'tar',
      res('gzip: stdout: No space left on device\ntar: Error is not recoverable: exiting now\n'),
      true,
    );
    assert.ok(full instanceof ShareFullError);
    assert.equal(full.code, 'ENOSPC');
    const short = tarFailure(
      'restore',
      'tar',
      res('tar: ./big.bin: Wrote only 3072 of 10240 bytes\ntar: Exiting with failure status due to previous errors\n'),
      false,
    );
    assert.ok(short instanceof ShareFullError, 'a short write is a full share');
    const quota = tarFailure('restore', 'tar', res('tar: ./a: Cannot write: Disk quota exceeded\n'), false);
    assert.ok(quota instanceof ShareFullError);
    assert.equal(quota.code, 'EDQUOT');
  });

  it('calls a live volume changing under the archive a content change only when every complaint is of that kind', () => {
    const changed = res(
      'tar: ./flip: Cannot open: Too many levels of symbolic links\ntar: ./b: Cannot savedir: Not a directory\ntar: ./flip: file changed as we read it\ntar: Exiting with failure status due to previous errors\n',
    );
    assert.ok(tarFailure('snapshot', 'tar', changed, true) instanceof VolumeContentChangedError);
    const mixed = res('tar: ./flip: Cannot open: Too many levels of symbolic links\ntar: ./x: Cannot open: Permission denied\n');
    assert.ok(tarFailure('snapshot', 'tar', mixed, true) instanceof CommandFailedError);
    assert.ok(tarFailure('snapshot', 'tar', res(''), true) instanceof CommandFailedError);
  });

  it("never calls a failed restore a content change: the archive is the driver's own", () => {
    assert.ok(
      tarFailure('restore', 'tar', res('tar: ./esc/pwned.txt: Cannot open: Not a directory\n'), false) instanceof CommandFailedError,
    );
  });
});
