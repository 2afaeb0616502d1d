import * as net from 'node:net';

/** What came back for one raw request: the status code, or null when the server said nothing. */
export interface RawAnswer {
  status: number | null;
  head: string;
}

/**
 * Sends bytes on a fresh TCP connection (then half-closes it, unless keepWriting) and reads until the server closes it (every generated
 * request says `Connection: close`) or until `timeoutMs`, then returns the status line's code.
 */
export function sendRaw(port: number, bytes: Buffer, timeoutMs: number, opts: { keepWriting?: boolean } = {}): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: m?.[1] ? Number(m[1]) : null, head: text.slice(0, 200) });
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('close', finish);
    socket.on('error', finish);
    // keepWriting leaves our side open, as a client that is still sending (a slow or stalled one).
    socket.on('connect', () => (opts.keepWriting ? socket.write(bytes) : socket.end(bytes)));
  });
}
