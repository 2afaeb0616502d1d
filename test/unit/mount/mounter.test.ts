import { strict as assert } from 'node:assert';
import * as sinon from 'sinon';
import { SystemMounter, type MountOperation } from '../../../src/mount/mounter';
import type { MountEntry } from '../../../src/mount/mountTable';
import { CommandFailedError, CommandTimeoutError, type CommandResult, type CommandRunner } from '../../../src/mount/runCommand';

const target = '/var/lib/kubelet/pods/p1/volumes/mount';

function entry(mountPoint: string, mountId: number): MountEntry {
  return {
    mountId,
    parentId: 1,
    device: '0:50',
    root: '/',
    mountPoint,
    options: ['rw'],
    fsType: 'nfs4',
    source: 'srv:/export',
    superOptions: ['rw'],
  };
}

/** A fake mount table that the fake commands change, as the kernel would. */
class FakeKernel {
  table: MountEntry[] = [];
  readTable = sinon.spy(async () => [...this.table]);
  mountAt(p: string, times = 1): void {
    for (let i = 0; i < times; i++) this.table.push(entry(p, 100 + this.table.length));
  }
  /** Removes the top-most mount at the last argument. */
  unmountTop(args: string[]): void {
    const p = args[args.length - 1];
    for (let i = this.table.length - 1; i >= 0; i--) {
      if (this.table[i]!.mountPoint === p) {
        this.table.splice(i, 1);
        return;
      }
    }
  }
}

const ok: CommandResult = { code: 0, stdout: '', stderr: '' };
const busy: CommandResult = { code: 32, stdout: '', stderr: `umount: ${target}: target is busy.` };

describe('SystemMounter', () => {
  let kernel: FakeKernel;
  let run: sinon.SinonStub<Parameters<CommandRunner>, ReturnType<CommandRunner>>;
  let observe: sinon.SinonSpy<[MountOperation, number, boolean], void>;
  let mounter: SystemMounter;
  beforeEach(() => {
    kernel = new FakeKernel();
    run = sinon.stub<Parameters<CommandRunner>, ReturnType<CommandRunner>>();
    observe = sinon.spy((_op: MountOperation, _s: number, _ok: boolean) => undefined);
    mounter = new SystemMounter({ run, readTable: kernel.readTable, mountTimeoutMs: 7000, umountTimeoutMs: 300, observe });
  });

  const calls = () => run.getCalls().map((c) => [c.args[0], ...c.args[1]].join(' '));

  describe('mounting', () => {
    it('bind-mounts read-write, and read-only with -o ro, under the mount deadline', async () => {
      run.resolves(ok);
      await mounter.bindMount('/share/volumes/v1/data', '/staging/v1', false);
      await mounter.bindMount('/staging/v1', target, true);
      assert.deepEqual(calls(), ['mount --bind /share/volumes/v1/data /staging/v1', `mount --bind -o ro /staging/v1 ${target}`]);
      assert.equal(run.firstCall.args[2].timeoutMs, 7000);
      sinon.assert.calledWith(observe, 'bind', sinon.match.number, true);
    });

    it('mounts with a type and joined options, and leaves -o out without options', async () => {
      run.resolves(ok);
      await mounter.mount('nfs4', 'srv:/export/v1', '/staging/v1', ['nfsvers=4.1', 'hard']);
      await mounter.mount('nfs4', 'srv:/export/v2', '/staging/v2', []);
      assert.deepEqual(calls(), [
        'mount -t nfs4 -o nfsvers=4.1,hard srv:/export/v1 /staging/v1',
        'mount -t nfs4 srv:/export/v2 /staging/v2',
      ]);
    });

    it("throws CommandFailedError with the command's words when mount fails, and reports the failure", async () => {
      run.resolves({ code: 32, stdout: '', stderr: 'mount: /staging/v1: special device /nope does not exist.' });
      await assert.rejects(
        mounter.bindMount('/nope', '/staging/v1', false),
        (err: Error) => err instanceof CommandFailedError && /special device/.test(err.message),
      );
      sinon.assert.calledWith(observe, 'bind', sinon.match.number, false);
    });
  });

  describe('unmounting', () => {
    it('does nothing for a path that is not mounted', async () => {
      await mounter.unmount(target);
      sinon.assert.notCalled(run);
    });

    it('runs one plain umount with the umount deadline when that works', async () => {
      kernel.mountAt(target);
      run.callsFake(async (_cmd, args) => (kernel.unmountTop(args), ok));
      await mounter.unmount(target);
      assert.deepEqual(calls(), [`umount ${target}`]);
      assert.equal(run.firstCall.args[2].timeoutMs, 300);
      assert.equal(kernel.table.length, 0);
    });

    it('escalates a umount that times out to umount -f, and then to a lazy umount -l', async () => {
      kernel.mountAt(target);
      run.onCall(0).rejects(new CommandTimeoutError(`umount ${target}`, 300));
      run.onCall(1).resolves(busy);
      run.onCall(2).callsFake(async (_cmd, args) => (kernel.unmountTop(args), ok));
      await mounter.unmount(target);
      assert.deepEqual(calls(), [`umount ${target}`, `umount -i -f ${target}`, `umount -i -l ${target}`]);
      for (const c of run.getCalls()) assert.equal(c.args[2].timeoutMs, 300);
      assert.deepEqual(
        observe.getCalls().map((c) => [c.args[0], c.args[2]]),
        [
          ['umount', false],
          ['umount_force', false],
          ['umount_lazy', true],
        ],
      );
      assert.equal(kernel.table.length, 0);
    });

    it('unmounts a mount known dead with one umount -f -l, skipping the normal umount', async () => {
      mounter = new SystemMounter({ run, readTable: kernel.readTable, umountTimeoutMs: 30_000, observe });
      kernel.mountAt(target);
      run.callsFake(async (_cmd, args) => (kernel.unmountTop(args), ok));
      await mounter.unmount(target, { knownDead: true });
      assert.deepEqual(calls(), [`umount -i -f -l ${target}`]);
      assert.equal(run.getCall(0).args[2].timeoutMs, 60_000, 'twice the umount deadline: it never waits on the server');
      assert.deepEqual(
        observe.getCalls().map((c) => [c.args[0], c.args[2]]),
        [['umount_dead', true]],
      );
      assert.equal(kernel.table.length, 0);
    });

    it('stops escalating when a failed step left the path unmounted after all', async () => {
      kernel.mountAt(target);
      run.onCall(0).callsFake(async (_cmd, args) => {
        kernel.unmountTop(args);
        throw new CommandTimeoutError(`umount ${target}`, 300);
      });
      await mounter.unmount(target);
      assert.deepEqual(calls(), [`umount ${target}`]);
    });

    it('takes off every mount stacked at the path', async () => {
      kernel.mountAt(target, 3);
      run.callsFake(async (_cmd, args) => (kernel.unmountTop(args), ok));
      await mounter.unmount(target);
      assert.equal(run.callCount, 3);
      assert.equal(kernel.table.length, 0);
    });

    it('throws the last error when even the lazy umount fails', async () => {
      kernel.mountAt(target);
      run.resolves(busy);
      await assert.rejects(mounter.unmount(target), (err: Error) => err instanceof CommandFailedError && /umount -i -l/.test(err.message));
      assert.equal(run.callCount, 3);
    });

    it('gives up with an error when the path stays mounted though umount reports success', async () => {
      kernel.mountAt(target);
      run.resolves(ok);
      await assert.rejects(mounter.unmount(target), /still mounted after repeated umount/);
      assert.equal(run.callCount, 16);
    });

    it('does not escalate an error that is not a command failure', async () => {
      kernel.mountAt(target);
      run.rejects(Object.assign(new Error('spawn umount ENOENT'), { code: 'ENOENT' }));
      await assert.rejects(mounter.unmount(target), /ENOENT/);
      assert.equal(run.callCount, 1);
    });
  });

  it('answers mountAt and table from the table reader', async () => {
    kernel.mountAt('/a');
    kernel.mountAt(target);
    assert.equal((await mounter.mountAt(target))?.mountPoint, target);
    assert.equal(await mounter.mountAt('/b'), undefined);
    assert.equal((await mounter.table()).length, 2);
  });
});
