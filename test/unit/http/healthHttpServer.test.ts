import { strict as assert } from 'node:assert';
import type * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import type { StorageIssue } from '../../../src/backend/storageIssue';
import { startHealthServer, type Readiness } from '../../../src/http/healthHttpServer';

const unreachable: StorageIssue = {
  status: 'STORAGE_UNREACHABLE',
  reason: 'ServerUnresponsive',
  message: 'NFS server filer1:2049 did not answer',
  code: 'ETIMEDOUT',
};

async function getJson(port: number, path: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.json() };
}

describe('health HTTP server', () => {
  let server: http.Server;
  let port: number;
  let readiness: Readiness;

  beforeEach(async () => {
    readiness = { ok: true, problems: [], storage: [] };
    server = await startHealthServer(
      0,
      '127.0.0.1',
      {
        live: () => ({ ok: true, message: 'monitor loop is ticking' }),
        ready: () => readiness,
        mounts: () => ({}),
        metrics: async () => '',
        metricsContentType: 'text/plain',
        driverName: 'test.csi.example.com',
      },
      pino({ level: 'silent' }),
    );
    port = (server.address() as AddressInfo).port;
  });
  afterEach(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('answers /healthz/ready with 200 and an empty storage list when nothing is wrong', async () => {
    assert.deepEqual(await getJson(port, '/healthz/ready'), { status: 200, body: { ok: true, problems: [], storage: [] } });
  });

  it('answers /healthz/ready with 503 and the share problems as objects in storage', async () => {
    readiness = { ok: false, problems: ['storage: ServerUnresponsive: NFS server filer1:2049 did not answer'], storage: [unreachable] };
    assert.deepEqual(await getJson(port, '/healthz/ready'), {
      status: 503,
      body: { ok: false, problems: ['storage: ServerUnresponsive: NFS server filer1:2049 did not answer'], storage: [unreachable] },
    });
  });

  it('reports the share problems as objects in the storage field of /healthz, which the status page reads', async () => {
    readiness = { ok: false, problems: ['storage: ServerUnresponsive: NFS server filer1:2049 did not answer'], storage: [unreachable] };
    assert.deepEqual(await getJson(port, '/healthz'), {
      status: 200,
      body: {
        status: 'degraded',
        live: 'monitor loop is ticking',
        problems: ['storage: ServerUnresponsive: NFS server filer1:2049 did not answer'],
        storage: [unreachable],
      },
    });
  });
});
