import { strict as assert } from 'node:assert';
import * as os from 'node:os';
import { buildConfig, isLoopbackHost, parseEndpoint, parseMountOptions, type RawOptions } from '../../src/config';

const cwd = '/srv/csi';
const build = (raw: RawOptions) => buildConfig({ nodeId: 'node-1', ...raw }, cwd);

describe('buildConfig', () => {
  it("takes the machine's host name as the node id when none is given, even with $HOSTNAME unset", () => {
    const old = process.env.HOSTNAME;
    delete process.env.HOSTNAME;
    try {
      assert.equal(buildConfig({}, cwd, () => 'worker-7.example').nodeId, 'worker-7.example');
      assert.equal(buildConfig({}, cwd).nodeId, os.hostname());
      assert.equal(buildConfig({ nodeId: 'given' }, cwd, () => 'worker-7').nodeId, 'given');
    } finally {
      if (old !== undefined) process.env.HOSTNAME = old;
    }
  });

  it('names the host name as the culprit when it is no valid node id', () => {
    assert.throws(
      () => buildConfig({}, cwd, () => 'bad host'),
      /invalid --node-id "bad host" \(this machine's host name, the default\): give --node-id/,
    );
  });

  it('fills defaults under ./.run of the working directory and freezes the result', () => {
    const cfg = build({});
    assert.deepEqual(cfg.endpoint, { kind: 'unix', path: '/srv/csi/.run/csi.sock' });
    assert.equal(cfg.localDir, '/srv/csi/.run/share');
    assert.equal(cfg.stateDir, '/srv/csi/.run/state');
    assert.equal(cfg.mode, 'all');
    assert.equal(cfg.backend, 'local');
    assert.equal(cfg.healthApi, 'v1.12', 'the API every released sidecar can read');
    assert.equal(cfg.metricsCompat, 'none');
    assert.equal(cfg.healthPort, 9910);
    assert.equal(cfg.healthCheckIntervalMs, 30_000);
    assert.equal(cfg.healthCheckTimeoutMs, 5_000);
    assert.equal(cfg.enableFaultInjection, false);
    assert.equal(cfg.faultInjectionAddress, '127.0.0.1');
    assert.equal(cfg.httpMaxConnections, 64);
    assert.equal(cfg.nfs.allowOtherServers, false);
    assert.ok(Object.isFrozen(cfg) && Object.isFrozen(cfg.nfs) && Object.isFrozen(cfg.nfs.mountOptions));
  });

  it('takes the values it is given, resolving relative directories against the working directory', () => {
    const cfg = build({
      endpoint: 'tcp://127.0.0.1:10000',
      mode: 'node',
      localDir: 'data/share',
      stateDir: '/var/lib/csi-state',
      healthApi: 'both',
      metricsCompat: 'efs',
      healthPort: '0',
      healthCheckInterval: '2s',
      healthCheckTimeout: '500ms',
      driverName: 'nfs.example.org',
    });
    assert.deepEqual(cfg.endpoint, { kind: 'tcp', host: '127.0.0.1', port: 10000 });
    assert.equal(cfg.mode, 'node');
    assert.equal(cfg.localDir, '/srv/csi/data/share');
    assert.equal(cfg.stateDir, '/var/lib/csi-state');
    assert.equal(cfg.healthApi, 'both');
    assert.equal(cfg.metricsCompat, 'efs');
    assert.equal(cfg.healthPort, 0);
    assert.equal(cfg.healthCheckIntervalMs, 2000);
    assert.equal(cfg.healthCheckTimeoutMs, 500);
    assert.equal(cfg.driverName, 'nfs.example.org');
  });

  const bad: Array<[string, RawOptions, RegExp]> = [
    ['an unknown mode', { mode: 'both' }, /--mode "both": one of controller, node, all/],
    ['an unknown backend', { backend: 'ceph' }, /--backend "ceph"/],
    ['an unknown health API', { healthApi: 'v1.14' }, /--health-api "v1.14"/],
    ['an unknown metrics compatibility', { metricsCompat: 'gce' }, /--metrics-compat "gce"/],
    ['a health port that is not a number', { healthPort: 'http' }, /--health-port "http": a whole number/],
    ['a negative health port', { healthPort: '-1' }, /--health-port/],
    ['a health port above 65535', { healthPort: '70000' }, /--health-port 70000: between 0 and 65535/],
    ['a fault-injection port above 65535', { faultInjectionPort: '65536' }, /--fault-injection-port/],
    ['a failure threshold of 0', { healthFailureThreshold: '0' }, /--health-failure-threshold 0/],
    ['a concurrency above 64', { healthConcurrency: '65' }, /--health-concurrency 65/],
    ['a duration without unit', { healthCheckInterval: '30' }, /--health-check-interval: invalid duration "30"/],
    [
      'an interval below 100ms',
      { healthCheckInterval: '50ms', healthCheckTimeout: '10ms' },
      /--health-check-interval 50ms: at least 100ms/,
    ],
    [
      'a timeout not shorter than the interval',
      { healthCheckInterval: '5s', healthCheckTimeout: '5s' },
      /--health-check-timeout \(5000ms\) must be shorter/,
    ],
    ['a driver name with an underscore', { driverName: 'bad_name.io' }, /--driver-name "bad_name.io"/],
    ['a driver name of 64 characters', { driverName: 'a'.repeat(64) }, /--driver-name/],
    ['a driver name starting with a dash', { driverName: '-x.io' }, /--driver-name/],
    ['a node id with a slash', { nodeId: 'node/1' }, /--node-id "node\/1"/],
    ['an http endpoint', { endpoint: 'http://localhost:1' }, /invalid endpoint "http:\/\/localhost:1"/],
    ['a tcp endpoint without port', { endpoint: 'tcp://localhost' }, /invalid endpoint/],
    ['a tcp port above 65535', { endpoint: 'tcp://localhost:70000' }, /port out of range/],
    ['a unix endpoint without path', { endpoint: 'unix://' }, /no socket path/],
    ['the nfs backend without a server', { backend: 'nfs' }, /--backend nfs needs --nfs-server/],
    ['an nfs server with shell characters', { backend: 'nfs', nfsServer: 'srv;reboot' }, /--nfs-server "srv;reboot"/],
    ['a relative nfs share', { backend: 'nfs', nfsServer: 'srv', nfsShare: 'export' }, /--nfs-share "export"/],
    ['an nfs share with ".."', { backend: 'nfs', nfsServer: 'srv', nfsShare: '/export/../etc' }, /--nfs-share/],
    ['an nfs share with a comma', { backend: 'nfs', nfsServer: 'srv', nfsShare: '/export,ro' }, /--nfs-share/],
    ['nfs mount options with a space', { nfsMountOptions: 'nfsvers=4.1, hard x' }, /--nfs-mount-options: invalid mount option "hard x"/],
    ['an unknown log level', { logLevel: 'verbose' }, /--log-level "verbose"/],
    ['an HTTP connection cap below 4', { httpMaxConnections: '3' }, /invalid --http-max-connections 3: between 4 and 10000/],
    ['an HTTP connection cap that is no number', { httpMaxConnections: 'many' }, /invalid --http-max-connections "many": a whole number/],
    [
      'a state dir inside the local dir',
      { localDir: '/data/share', stateDir: '/data/share/state' },
      /--state-dir and --local-dir must be separate/,
    ],
    [
      'a local dir inside the state dir',
      { localDir: '/data/state/share', stateDir: '/data/state' },
      /--state-dir and --local-dir must be separate/,
    ],
    ['the same dir for state and share', { localDir: '/data/x', stateDir: '/data/x' }, /--state-dir and --local-dir must be separate/],
  ];
  for (const [what, raw, message] of bad) {
    it(`refuses ${what} with a clear message`, () => {
      assert.throws(() => build(raw), message);
    });
  }
});

describe('parseEndpoint', () => {
  it('reads unix sockets, absolute, relative and in the short unix: form', () => {
    assert.deepEqual(parseEndpoint('unix:///csi/csi.sock'), { kind: 'unix', path: '/csi/csi.sock' });
    assert.deepEqual(parseEndpoint('unix://run/csi.sock', '/srv'), { kind: 'unix', path: '/srv/run/csi.sock' });
    assert.deepEqual(parseEndpoint('unix:/csi/csi.sock'), { kind: 'unix', path: '/csi/csi.sock' });
  });

  it('reads tcp host:port, IPv6 in brackets too', () => {
    assert.deepEqual(parseEndpoint('tcp://0.0.0.0:0'), { kind: 'tcp', host: '0.0.0.0', port: 0 });
    assert.deepEqual(parseEndpoint('tcp://[::1]:9000'), { kind: 'tcp', host: '[::1]', port: 9000 });
  });
});

describe('parseMountOptions', () => {
  it('splits a comma list of key or key=value words, and reads empty text as none', () => {
    assert.deepEqual(parseMountOptions('nfsvers=4.1,hard, timeo=600'), ['nfsvers=4.1', 'hard', 'timeo=600']);
    assert.deepEqual(parseMountOptions('  '), []);
  });

  it('refuses words that could smuggle another argument', () => {
    for (const bad of ['a b', 'x=$(id)', 'a;b', 'nfsvers=4.1,,hard', 'a=b=c'])
      assert.throws(() => parseMountOptions(bad), /invalid mount option/, bad);
  });
});

describe('kubeletDir', () => {
  it('defaults to /var/lib/kubelet and resolves a given directory', () => {
    assert.equal(build({}).kubeletDir, '/var/lib/kubelet');
    assert.equal(build({ kubeletDir: 'k/' }).kubeletDir, '/srv/csi/k');
  });
});

describe('isLoopbackHost', () => {
  it('knows loopback addresses and nothing else', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) assert.equal(isLoopbackHost(h), true, h);
    for (const h of ['0.0.0.0', '10.0.0.1', '127.example.com', '::', '', '1270.0.0.1']) assert.equal(isLoopbackHost(h), false, h);
  });
});
