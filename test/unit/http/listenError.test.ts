import { strict as assert } from 'node:assert';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PortUnavailableError, explainListenError } from '../../../src/http/listenError';

describe('explainListenError', () => {
  it('names the flag, its environment variable and the likely cause of a port clash', async () => {
    const first = http.createServer();
    await new Promise<void>((resolve) => first.listen(0, '127.0.0.1', resolve));
    const port = (first.address() as AddressInfo).port;
    const second = http.createServer();
    try {
      const err = await new Promise<unknown>((resolve) => {
        second.once('error', resolve);
        second.listen(port, '127.0.0.1');
      });
      const explained = explainListenError(err, { flag: '--health-port', env: 'HEALTH_PORT', port, address: '127.0.0.1' });
      assert.ok(explained instanceof PortUnavailableError);
      assert.match(
        explained.message,
        new RegExp(
          `^--health-port ${port} \\(env HEALTH_PORT\\): 127\\.0\\.0\\.1:${port} is already in use, most likely by another csi-driver`,
        ),
      );
      assert.match(explained.message, /choose another port \(0 turns this port off\)/);
    } finally {
      second.close();
      first.close();
    }
  });

  it('passes other errors through unchanged', () => {
    const other = new Error('boom');
    assert.equal(explainListenError(other, { flag: '--health-port', env: 'HEALTH_PORT', port: 1, address: '0.0.0.0' }), other);
  });
});
