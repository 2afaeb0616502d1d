import { strict as assert } from 'node:assert';
import * as net from 'node:net';
import * as sinon from 'sinon';
import { isRpcReplyTo, nfsNullCall, pingServer, ServerPingError } from '../../../src/backend/nfsServerPing';

/** A TCP server on a free port; `onData` decides what a client gets. */
async function server(onData: (sock: net.Socket, d: Buffer) => void): Promise<{ port: number; close: () => void; sockets: net.Socket[] }> {
  const sockets: net.Socket[] = [];
  const srv = net.createServer((sock) => {
    sockets.push(sock);
    sock.on('data', (d) => onData(sock, d));
    sock.on('error', () => undefined);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  return { port, sockets, close: () => (sockets.forEach((s) => s.destroy()), srv.close()) };
}

/** An RPC reply (MSG_ACCEPTED, SUCCESS) to the call in `d`. */
function replyTo(d: Buffer): Buffer {
  const xid = d.readUInt32BE(4);
  const body = Buffer.alloc(24);
  [xid, 1, 0, 0, 0, 0].forEach((w, i) => body.writeUInt32BE(w, i * 4));
  const mark = Buffer.alloc(4);
  mark.writeUInt32BE((0x80000000 | body.length) >>> 0);
  return Buffer.concat([mark, body]);
}

describe('NFS server ping', () => {
  it('encodes an NFSv4 NULL call in one RPC record', () => {
    const b = nfsNullCall(0x01020304);
    assert.equal(b.length, 44);
    assert.equal(b.readUInt32BE(0), 0x80000028);
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((i) => b.readUInt32BE(i * 4)),
      [0x01020304, 0, 2, 100003, 4],
    );
    assert.equal(isRpcReplyTo(Buffer.alloc(8), 1), undefined);
  });

  it('resolves when the server answers the NULL call', async () => {
    const s = await server((sock, d) => sock.write(replyTo(d)));
    try {
      await pingServer('127.0.0.1', s.port, 2_000, 'nfs-null');
    } finally {
      s.close();
    }
  });

  it('times out on a server that accepts but never answers (a frozen server), at its deadline and not before', async () => {
    let callArrived: () => void = () => undefined;
    const arrived = new Promise<void>((r) => (callArrived = r));
    const s = await server(() => callArrived());
    // Only the ping's deadline timer is virtual: the socket I/O is real, the clock is not the machine's.
    const clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      let settled = false;
      const ping = pingServer('127.0.0.1', s.port, 200, 'nfs-null').finally(() => (settled = true));
      ping.catch(() => undefined);
      await arrived;
      await clock.tickAsync(199);
      assert.equal(settled, false, 'still waiting for the reply before the deadline');
      await clock.tickAsync(1);
      await assert.rejects(
        ping,
        (err: unknown) => err instanceof ServerPingError && err.code === 'ETIMEDOUT' && /within 200ms/.test(err.message),
      );
    } finally {
      clock.restore();
    }
    try {
      // The same server passes a plain TCP check: it is up, only not answering RPC.
      await pingServer('127.0.0.1', s.port, 2_000, 'tcp');
    } finally {
      s.close();
    }
  });

  it('fails with ECONNREFUSED on a closed port', async () => {
    const s = await server(() => undefined);
    s.close();
    await assert.rejects(
      pingServer('127.0.0.1', s.port, 2_000, 'nfs-null'),
      (err: unknown) => err instanceof ServerPingError && err.code === 'ECONNREFUSED',
    );
  });

  it('fails on an answer that is not an RPC reply', async () => {
    const s = await server((sock) => sock.write(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n')));
    try {
      await assert.rejects(
        pingServer('127.0.0.1', s.port, 2_000, 'nfs-null'),
        (err: unknown) => err instanceof ServerPingError && err.code === 'EPROTO',
      );
    } finally {
      s.close();
    }
  });
});
