import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { driverBin, driverDirs, freePort, startDriverProcess } from '../helpers/driverProcess';
import { connectCsi } from '../helpers/csiClient';
import { mountCap } from '../helpers/publish';

describe('the CSI server process', function () {
  this.timeout(60_000);

  it('stops on SIGTERM with exit code 0 and removes its socket', async () => {
    const d = await startDriverProcess();
    assert.ok(existsSync(d.dirs.socket));
    const code = await d.stop();
    assert.equal(code, 0);
    assert.equal(existsSync(d.dirs.socket), false);
    assert.match(d.logText(), /draining in-flight calls/);
  });

  it('makes its socket readable and writable by owner and group only, whatever the umask', async () => {
    const d = await startDriverProcess();
    try {
      assert.equal(statSync(d.dirs.socket).mode & 0o777, 0o660);
    } finally {
      await d.stop();
    }
  });

  it('replaces a socket file left by a killed driver', async () => {
    const d = await startDriverProcess();
    await d.kill();
    assert.ok(existsSync(d.dirs.socket), 'kill -9 leaves the socket behind');
    const again = await startDriverProcess([], d.dirs);
    assert.equal((await again.client.identity.Probe({})).ready?.value, true);
    await again.stop();
  });

  it('refuses to start on a socket another driver serves, naming its pid, and that driver stays reachable', async () => {
    const first = await startDriverProcess();
    try {
      const other = driverDirs();
      const child = spawn(
        process.execPath,
        [
          driverBin,
          '--endpoint',
          `unix://${first.dirs.socket}`,
          '--local-dir',
          other.share,
          '--state-dir',
          other.state,
          '--health-port',
          '0',
        ],
        {
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      let err = '';
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      const code = await new Promise<number | null>((r) => child.once('exit', r));
      assert.equal(code, 1);
      assert.match(err, new RegExp(`${first.dirs.socket} is in use by pid ${first.child.pid} \\(likely another csi-driver\\)`));
      // Nothing of the second driver was made: it stopped before its state dir.
      assert.equal(existsSync(other.state), false);
      assert.ok(existsSync(first.dirs.socket));
      assert.equal((await first.client.identity.Probe({})).ready?.value, true);
    } finally {
      await first.stop();
    }
  });

  it('names the flag and the likely cause when the health port is taken, and leaves the other driver serving', async () => {
    const first = await startDriverProcess([], driverDirs(), { health: true });
    try {
      const other = driverDirs();
      const args = [
        '--endpoint',
        `unix://${other.socket}`,
        '--local-dir',
        other.share,
        '--state-dir',
        other.state,
        '--kubelet-dir',
        other.root,
      ];
      const child = spawn(
        process.execPath,
        [driverBin, ...args, '--health-address', '127.0.0.1', '--health-port', String(first.healthPort)],
        {
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      let err = '';
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      const code = await new Promise<number | null>((r) => child.once('exit', r));
      assert.equal(code, 1);
      assert.match(
        err,
        new RegExp(
          `--health-port ${first.healthPort} \\(env HEALTH_PORT\\): 127\\.0\\.0\\.1:${first.healthPort} is already in use, most likely by another csi-driver`,
        ),
      );
      assert.equal((await fetch(`http://127.0.0.1:${first.healthPort}/healthz/live`)).status, 200);
    } finally {
      await first.stop();
    }
  });

  it('on stop, leaves the socket file alone when it is no longer the one it bound', async () => {
    const d = await startDriverProcess();
    const { unlinkSync } = await import('node:fs');
    const net = await import('node:net');
    unlinkSync(d.dirs.socket);
    const other = net.createServer((c) => c.end());
    await new Promise<void>((r) => other.listen(d.dirs.socket, r));
    try {
      assert.equal(await d.stop(), 0);
      assert.ok(existsSync(d.dirs.socket), 'the socket of the other server is still there');
      assert.match(d.logText(), /no longer the one this server bound; left in place/);
      await new Promise<void>((resolve, reject) => net.connect(d.dirs.socket).once('connect', resolve).once('error', reject));
    } finally {
      await new Promise((r) => other.close(r));
    }
  });

  it('refuses node mode without root or CAP_SYS_ADMIN at start, saying so, and creates nothing', async function () {
    // As the unprivileged user nobody; skipped where that user cannot read the built tree.
    const readable = spawnSync('runuser', [
      '-u',
      'nobody',
      '--',
      'test',
      '-r',
      path.join(path.dirname(driverBin), '..', 'dist', 'src', 'main.js'),
    ]);
    if (process.getuid?.() !== 0 || readable.status !== 0) this.skip();
    const dirs = driverDirs();
    const r = spawnSync(
      'runuser',
      [
        '-u',
        'nobody',
        '--',
        process.execPath,
        driverBin,
        '--mode',
        'node',
        '--endpoint',
        `unix://${dirs.socket}`,
        '--state-dir',
        dirs.state,
        '--local-dir',
        dirs.share,
        '--health-port',
        '0',
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    assert.equal(r.status, 1);
    assert.match(r.stderr, /node mode mounts volumes and needs root or CAP_SYS_ADMIN, but this process runs as uid \d+ without it/);
    assert.equal(existsSync(dirs.state), false);
    assert.equal(existsSync(dirs.socket), false);
  });

  it('refuses to replace a regular file at the socket path, and says why', async () => {
    const dirs = driverDirs();
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dirs.root, { recursive: true });
    writeFileSync(dirs.socket, 'not a socket');
    const child = spawn(
      process.execPath,
      [driverBin, '--endpoint', `unix://${dirs.socket}`, '--local-dir', dirs.share, '--state-dir', dirs.state, '--health-port', '0'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    assert.notEqual(code, 0);
    assert.match(err, /is not a socket; refusing to replace it/);
    assert.equal(readFileSync(dirs.socket, 'utf8'), 'not a socket');
  });

  it('serves on tcp://127.0.0.1:PORT as well', async () => {
    const dirs = driverDirs();
    const port = freePort();
    const child = spawn(
      process.execPath,
      [driverBin, '--endpoint', `tcp://127.0.0.1:${port}`, '--local-dir', dirs.share, '--state-dir', dirs.state, '--health-port', '0'],
      { stdio: 'ignore' },
    );
    const client = connectCsi(`127.0.0.1:${port}`);
    try {
      const deadline = Date.now() + 15_000;
      for (;;) {
        try {
          const info = await client.identity.GetPluginInfo({}, 2000);
          assert.equal(info.name, 'nfs-health.csi.dev');
          break;
        } catch (e) {
          if (Date.now() > deadline) throw e;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    } finally {
      client.close();
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });

  it('never writes secrets to its log', async () => {
    const d = await startDriverProcess(['--log-level', 'debug']);
    await d.client.controller.CreateVolume({
      name: 'pvc-secretive',
      volume_capabilities: [mountCap],
      secrets: { password: 'hunter2-very-secret' },
    });
    await d.client.controller.DeleteVolume({ volume_id: 'pvc-secretive', secrets: { token: 'another-secret-value' } });
    await d.stop();
    const log = d.logText();
    assert.match(log, /pvc-secretive/);
    assert.doesNotMatch(log, /hunter2-very-secret|another-secret-value/);
  });

  it('starts with clear errors on bad flags and creates nothing', async () => {
    const dirs = driverDirs();
    const child = spawn(process.execPath, [driverBin, '--endpoint', 'http://nope', '--local-dir', dirs.share, '--state-dir', dirs.state], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    assert.equal(code, 1);
    assert.match(err, /invalid endpoint "http:\/\/nope"/);
    assert.equal(existsSync(path.join(dirs.share)), false);
    assert.equal(existsSync(path.join(dirs.state)), false);
  });
});
