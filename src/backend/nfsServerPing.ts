import { randomBytes } from 'node:crypto';
import * as net from 'node:net';

/** Why a server did not answer: the errno of the connection, or ETIMEDOUT. */
export class ServerPingError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ServerPingError';
  }
}

/**
 * How a server is asked: `tcp` only opens a connection; `nfs-null` also sends the NFSv4 NULL
 * procedure and waits for any RPC reply. A frozen server (SIGSTOP) still completes TCP
 * handshakes from its listen backlog, so only the NULL call notices it.
 */
export type PingKind = 'tcp' | 'nfs-null';

/** Asks a server whether it answers; resolves when it does. */
export type ServerPing = (host: string, port: number, timeoutMs: number, kind: PingKind) => Promise<void>;

const nfsProgram = 100003;
const nfsVersion = 4;

/** An ONC RPC call of NFSv4 procedure 0 (NULL) with AUTH_NONE, in one TCP record. */
export function nfsNullCall(xid: number): Buffer {
  const words = [
    xid,
    0 /* CALL */,
    2 /* RPC version */,
    nfsProgram,
    nfsVersion,
    0 /* NULL */,
    0,
    0 /* cred AUTH_NONE */,
    0,
    0 /* verf AUTH_NONE */,
  ];
  const buf = Buffer.alloc(4 + words.length * 4);
  buf.writeUInt32BE((0x80000000 | (words.length * 4)) >>> 0, 0);
  words.forEach((w, i) => buf.writeUInt32BE(w >>> 0, 4 + i * 4));
  return buf;
}

/** Is `buf` (from the start of the stream) the beginning of an RPC reply to `xid`? undefined: need more bytes. */
export function isRpcReplyTo(buf: Buffer, xid: number): boolean | undefined {
  if (buf.length < 12) return undefined;
  return buf.readUInt32BE(4) === xid >>> 0 && buf.readUInt32BE(8) === 1; /* REPLY */
}

/**
 * Connects to host:port within the deadline and, for `nfs-null`, waits for the reply to a
 * NULL call. Name resolution is part of the deadline. Never throws synchronously.
 */
export const pingServer: ServerPing = (host, port, timeoutMs, kind) =>
  new Promise((resolve, reject) => {
    const xid = randomBytes(4).readUInt32BE(0);
    let got = Buffer.alloc(0);
    let done = false;
    const socket = net.connect({ host: host.replace(/^\[(.*)\]$/, '$1'), port });
    const finish = (err?: ServerPingError): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(
      () =>
        finish(
          new ServerPingError(
            'ETIMEDOUT',
            `${host}:${port} did not answer ${kind === 'tcp' ? 'a TCP connect' : 'an NFS NULL call'} within ${timeoutMs}ms`,
          ),
        ),
      timeoutMs,
    );
    socket.once('connect', () => {
      if (kind === 'tcp') return finish();
      socket.write(nfsNullCall(xid));
    });
    socket.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      const ok = isRpcReplyTo(got, xid);
      if (ok === true) finish();
      else if (ok === false) finish(new ServerPingError('EPROTO', `${host}:${port} answered, but not with an RPC reply`));
    });
    socket.once('end', () => finish(new ServerPingError('ECONNRESET', `${host}:${port} closed the connection without a reply`)));
    socket.once('error', (err: NodeJS.ErrnoException) => finish(new ServerPingError(err.code ?? 'EIO', `${host}:${port}: ${err.message}`)));
  });
