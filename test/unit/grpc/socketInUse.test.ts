import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { SocketInUseError, refuseLiveSocket, socketAnswers, socketOwnerPid } from '../../../src/grpc/socketInUse';

const header = 'Num       RefCount Protocol Flags    Type St Inode Path\n';
const line = (flags: string, inode: number, p: string): string => `0000000000000000: 00000002 00000000 ${flags} 0001 01 ${inode} ${p}\n`;

describe('socketInUse', () => {
  let dir = '';
  beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'socket-in-use-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A fake /proc: net/unix plus fd links of the given pids. */
  function fakeProc(unix: string, fds: Record<number, string[]>): string {
    const proc = path.join(dir, 'proc');
    mkdirSync(path.join(proc, 'net'), { recursive: true });
    writeFileSync(path.join(proc, 'net', 'unix'), header + unix);
    for (const [pid, links] of Object.entries(fds)) {
      mkdirSync(path.join(proc, pid, 'fd'), { recursive: true });
      links.forEach((l, i) => symlinkSync(l, path.join(proc, pid, 'fd', String(i))));
    }
    return proc;
  }

  it('tells a live socket from one whose server is gone', async () => {
    const sock = path.join(dir, 'csi.sock');
    const server = net.createServer((c) => c.end());
    await new Promise<void>((r) => server.listen(sock, r));
    try {
      assert.equal(await socketAnswers(sock), true);
      await assert.rejects(
        refuseLiveSocket(sock),
        (err: unknown) => err instanceof SocketInUseError && err.message.includes(`${sock} is in use by`),
      );
    } finally {
      await new Promise((r) => server.close(r));
    }
    assert.equal(await socketAnswers(sock), false);
    await refuseLiveSocket(sock);
  });

  it('finds the pid of a listener bound at the path through its socket inode', async () => {
    const proc = fakeProc(line('00010000', 777, '/run/csi/csi.sock') + line('00000000', 778, '/run/csi/csi.sock'), {
      4242: ['/dev/null', 'socket:[777]'],
      5151: ['socket:[778]'],
    });
    assert.equal(await socketOwnerPid('/run/csi/csi.sock', proc), 4242);
  });

  it('finds the pid of a driver from the name it bound before renaming (.csi-<pid>.sock beside the path)', async () => {
    const proc = fakeProc(line('00010000', 900, '/run/csi/.csi-3131.sock') + line('00010000', 901, '/elsewhere/.csi-77.sock'), {});
    assert.equal(await socketOwnerPid('/run/csi/csi.sock', proc), 3131);
  });

  it('says nothing rather than guess between two drivers in one directory, or without procfs', async () => {
    const proc = fakeProc(line('00010000', 900, '/run/csi/.csi-1.sock') + line('00010000', 901, '/run/csi/.csi-2.sock'), {});
    assert.equal(await socketOwnerPid('/run/csi/csi.sock', proc), undefined);
    assert.equal(await socketOwnerPid('/run/csi/csi.sock', path.join(dir, 'no-proc')), undefined);
  });

  it('names the pid, the flag and the way out in its message', () => {
    assert.equal(
      new SocketInUseError('/csi/csi.sock', 12).message,
      '/csi/csi.sock is in use by pid 12 (likely another csi-driver): stop it first, or give this one its own --endpoint (env CSI_ENDPOINT)',
    );
  });
});
