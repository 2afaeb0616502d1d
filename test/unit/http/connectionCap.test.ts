import { strict as assert } from 'node:assert';
import type * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { listenHttp } from '../../../src/http/listenHttp';

/** Opens idle connections (no byte sent) and resolves once each is connected or closed. */
async function openIdle(port: number, n: number): Promise<net.Socket[]> {
  const sockets: net.Socket[] = [];
  await Promise.all(
    Array.from({ length: n }, () => {
      const s = net.connect(port, '127.0.0.1');
      s.on('error', () => undefined);
      sockets.push(s);
      return new Promise<void>((resolve) => {
        s.once('connect', () => resolve());
        s.once('close', () => resolve());
      });
    }),
  );
  return sockets;
}

async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('HTTP connection cap', () => {
  let server: http.Server;
  let port: number;
  let sockets: net.Socket[] = [];
  let release: () => void = () => undefined;
  let entered: Promise<void>;

  beforeEach(async () => {
    const held = new Promise<void>((resolve) => (release = resolve));
    let enter: () => void = () => undefined;
    entered = new Promise<void>((resolve) => (enter = resolve));
    server = await listenHttp({
      port: 0,
      address: '127.0.0.1',
      logger: pino({ level: 'silent' }),
      limits: { maxConnections: 4 },
      routes: {
        'GET /ok': (_req, res) => void res.end('ok'),
        'GET /held': async (_req, res) => {
          enter();
          await held;
          res.end('held');
        },
      },
    });
    port = (server.address() as AddressInfo).port;
  });
  afterEach(async () => {
    release();
    for (const s of sockets) s.destroy();
    sockets = [];
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('keeps at most the cap of idle connections open, closing the oldest first', async () => {
    sockets = await openIdle(port, 40);
    await until('the server has closed all but 4', () => sockets.filter((s) => !s.closed).length <= 4);
    const open = sockets.map((s, i) => (s.closed ? -1 : i)).filter((i) => i >= 0);
    assert.deepEqual(open, [36, 37, 38, 39]);
    const count = await new Promise<number>((resolve, reject) => server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
    assert.ok(count <= 4, `server holds ${count} connections`);
  });

  it('still answers a new request after a flood of idle connections', async () => {
    sockets = await openIdle(port, 200);
    const res = await fetch(`http://127.0.0.1:${port}/ok`, { headers: { connection: 'close' } });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'ok');
  });

  it('never closes a connection with a request in flight to make room', async () => {
    const held = fetch(`http://127.0.0.1:${port}/held`, { headers: { connection: 'close' } });
    await entered;
    sockets = await openIdle(port, 40);
    release();
    const res = await held;
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'held');
  });
});
