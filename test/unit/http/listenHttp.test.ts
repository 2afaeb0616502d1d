import { strict as assert } from 'node:assert';
import type * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { listenHttp } from '../../../src/http/listenHttp';
import { sendRaw } from '../../helpers/rawHttp';

describe('listenHttp', () => {
  let server: http.Server;
  let port: number;
  beforeEach(async () => {
    server = await listenHttp({
      port: 0,
      address: '127.0.0.1',
      logger: pino({ level: 'silent' }),
      limits: { headersTimeoutMs: 300, requestTimeoutMs: 600 },
      routes: {
        'GET /ok': (_req, res) => void res.end('ok'),
        'GET /throws': () => {
          throw new TypeError('a bug in a handler');
        },
        'GET /rejects': async () => Promise.reject(new Error('a failing handler')),
      },
    });
    port = (server.address() as AddressInfo).port;
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const get = (target: string, headers = '') =>
    sendRaw(port, Buffer.from(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}Connection: close\r\n\r\n`), 30_000);

  it('answers a handler that throws or rejects with 500 for that request only, and keeps serving', async () => {
    assert.equal((await get('/throws')).status, 500);
    assert.equal((await get('/rejects')).status, 500);
    assert.equal((await get('/ok')).status, 200);
  });

  it('answers a target URL cannot parse with 400, an over-long one with 414, a missing route with 404', async () => {
    assert.equal((await get('http://a:99999/')).status, 400);
    assert.equal((await get(`/${'x'.repeat(3000)}`)).status, 414);
    assert.equal((await get('/nope')).status, 404);
  });

  it('refuses headers over 8 KiB with 431 and a transfer coding other than chunked with 400', async () => {
    assert.equal((await get('/ok', `X-Big: ${'b'.repeat(9 * 1024)}\r\n`)).status, 431);
    assert.equal((await get('/ok', 'Transfer-Encoding: gzip\r\n')).status, 400);
  });

  it('closes a connection whose headers never finish, with 408', async () => {
    const answer = await sendRaw(port, Buffer.from('GET /ok HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\n'), 30_000, { keepWriting: true });
    assert.equal(answer.status, 408);
  });
});
