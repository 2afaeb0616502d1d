import { strict as assert } from 'node:assert';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { systemClock } from '../../../src/health/clock';
import { FaultInjector } from '../../../src/health/faultInjector';
import { startFaultApi } from '../../../src/http/faultApi';

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

function request(port: number, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers: {
          host: `127.0.0.1:${port}`,
          ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }),
          ...headers,
        },
        agent: false,
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const json = { 'content-type': 'application/json' };
const condition = JSON.stringify({ status: 'INACCESSIBLE', reason: 'Gone', message: 'test' });

describe('fault API request checks', () => {
  let server: http.Server;
  let faults: FaultInjector;
  let port: number;

  beforeEach(async () => {
    faults = new FaultInjector(systemClock);
    server = await startFaultApi(0, '127.0.0.1', faults, pino({ level: 'silent' }));
    port = (server.address() as AddressInfo).port;
  });
  afterEach(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('arms a condition for a JSON POST from a script', async () => {
    const a = await request(port, 'POST', '/faults/volumes/vol-1/condition', json, condition);
    assert.equal(a.status, 200);
    assert.deepEqual(
      faults.issuesFor('vol-1').map((i) => i.reason),
      ['Gone'],
    );
  });

  it('refuses a foreign Host with 403 and arms nothing', async () => {
    for (const host of ['evil.example', 'evil.example:9911', '127.0.0.1.nip.io']) {
      const a = await request(port, 'POST', '/faults/volumes/vol-1/condition', { ...json, host }, condition);
      assert.equal(a.status, 403, host);
      assert.match(String(a.body.error), /^Host ".*" is not allowed/);
    }
    assert.deepEqual(faults.issuesFor('vol-1'), []);
  });

  it('refuses browser-originated requests (Origin, Sec-Fetch-Site cross-site or same-site) with 403 and arms nothing', async () => {
    const browserHeaders: Record<string, string>[] = [
      { origin: 'http://evil.example' },
      { origin: 'null' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
    ];
    for (const h of browserHeaders) {
      const a = await request(port, 'POST', '/faults/volumes/vol-1/condition', { ...json, ...h }, condition);
      assert.equal(a.status, 403, JSON.stringify(h));
      assert.match(String(a.body.error), /browser-originated requests are refused/);
    }
    assert.deepEqual(faults.issuesFor('vol-1'), []);
    assert.equal((await request(port, 'GET', '/faults', { origin: 'http://evil.example' })).status, 403);
  });

  it('accepts Sec-Fetch-Site none (typed by the user) and same-origin', async () => {
    for (const site of ['none', 'same-origin'])
      assert.equal((await request(port, 'GET', '/faults', { 'sec-fetch-site': site })).status, 200, site);
  });

  it('refuses a POST body that is not application/json with 415 (a cross-site form post) and arms nothing', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const a = await request(port, 'POST', '/faults/volumes/vol-1/condition', { 'content-type': type }, condition);
      assert.equal(a.status, 415, type);
      assert.equal(a.body.error, 'the body must be Content-Type: application/json');
    }
    assert.equal((await request(port, 'POST', '/faults/fail-next', {}, '{"operation":"stage"}')).status, 415);
    assert.deepEqual(faults.issuesFor('vol-1'), []);
  });

  it('refuses a DELETE with a non-JSON body and keeps what is armed; a DELETE without a body clears', async () => {
    await request(port, 'POST', '/faults/volumes/vol-1/condition', json, condition);
    assert.equal((await request(port, 'DELETE', '/faults', { 'content-type': 'text/plain' }, 'x')).status, 415);
    assert.equal(faults.issuesFor('vol-1').length, 1);
    assert.equal((await request(port, 'DELETE', '/faults', {})).status, 200);
    assert.deepEqual(faults.issuesFor('vol-1'), []);
  });

  it('answers 400 to a malformed percent-encoding in the volume id and 413 to an oversized body', async () => {
    assert.equal((await request(port, 'POST', '/faults/volumes/%E0%A4%A/condition', json, condition)).status, 400);
    assert.equal((await request(port, 'POST', '/faults/volumes/vol-1/condition', json, `{"message":"${'x'.repeat(70_000)}"}`)).status, 413);
    assert.deepEqual(faults.issuesFor('vol-1'), []);
  });
});
