import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from '../helpers/driverProcess';

const script = path.join(repoRoot, 'csi-sanity', 'run.sh');
const client = path.join(repoRoot, 'dist', 'test', 'helpers', 'csiClient.js');

/**
 * A stand-in for the csi-sanity binary: it records its arguments, checks the paths it would
 * mkdir do not exist yet, asks the driver for GetPluginInfo and Probe over the real endpoint,
 * and exits with a code of the test's choosing.
 */
function fakeSanity(dir: string, exitCode: number): string {
  const file = path.join(dir, 'csi-sanity');
  writeFileSync(
    file,
    `#!/usr/bin/env node
const fs = require('node:fs');
const args = process.argv.slice(2);
const flag = (n) => { const i = args.indexOf(n); return i >= 0 ? args[i + 1] : undefined; };
const { connectCsi } = require(${JSON.stringify(client)});
const c = connectCsi(flag('--csi.endpoint'));
Promise.all([c.identity.GetPluginInfo({}), c.identity.Probe({}), c.controller.ControllerGetCapabilities({}), c.node.NodeGetInfo({})]).then(([info, probe, caps, node]) => {
  fs.writeFileSync(${JSON.stringify(path.join(dir, 'report.json'))}, JSON.stringify({
    args, name: info.name, ready: probe.ready && probe.ready.value,
    mountdirFree: !fs.existsSync(flag('--csi.mountdir')), stagingdirFree: !fs.existsSync(flag('--csi.stagingdir')),
    params: fs.readFileSync(flag('--csi.testvolumeparameters'), 'utf8'),
    mutable: flag('--csi.testvolumemutableparameters') ? fs.readFileSync(flag('--csi.testvolumemutableparameters'), 'utf8') : null,
    controllerCaps: caps.capabilities.map((x) => x.rpc && x.rpc.type), maxVolumesPerNode: node.max_volumes_per_node,
  }));
  c.close();
  process.exit(${exitCode});
}, (err) => { console.error(err); process.exit(99); });
`,
  );
  chmodSync(file, 0o755);
  return file;
}

/** Pids whose command line mentions `text`. */
function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(text)) pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

describe('csi-sanity/run.sh', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'csi-sanity-script-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts the driver, runs $CSI_SANITY against it with the parameter file and extra args, and exits with its code', () => {
    const bin = fakeSanity(dir, 3);
    const res = spawnSync('bash', [script, '--ginkgo.focus=Node'], {
      env: { ...process.env, CSI_SANITY: bin, CSI_SANITY_TMPDIR: dir },
      encoding: 'utf8',
    });
    assert.equal(res.status, 3, res.stderr);
    const report = JSON.parse(readFileSync(path.join(dir, 'report.json'), 'utf8')) as Record<string, unknown> & { args: string[] };
    assert.ok(String(report.name).length > 0);
    assert.equal(report.ready, true);
    assert.equal(report.mountdirFree, true, 'csi-sanity gets to mkdir the mount dir');
    assert.equal(report.stagingdirFree, true, 'csi-sanity gets to mkdir the staging dir');
    assert.match(String(report.params), /\{\}/);
    assert.equal(report.args[report.args.length - 1], '--ginkgo.focus=Node');
    for (const f of ['--csi.endpoint', '--csi.mountdir', '--csi.stagingdir', '--csi.testvolumeparameters'])
      assert.ok(report.args.includes(f), f);
    const endpoint = report.args[report.args.indexOf('--csi.endpoint') + 1]!;
    assert.match(endpoint, /^unix:\/\//);
    assert.equal(existsSync(path.dirname(endpoint.slice('unix://'.length))), false, 'the temp directory is removed afterwards');
  });

  it('with CSI_SANITY_OPTIONAL=1, enables attach and hands csi-sanity the mutable parameters and the attach-limit test', () => {
    const bin = fakeSanity(dir, 0);
    const res = spawnSync('bash', [script], {
      env: { ...process.env, CSI_SANITY: bin, CSI_SANITY_TMPDIR: dir, CSI_SANITY_OPTIONAL: '1' },
      encoding: 'utf8',
    });
    assert.equal(res.status, 0, res.stderr);
    const report = JSON.parse(readFileSync(path.join(dir, 'report.json'), 'utf8')) as {
      args: string[];
      mutable: string | null;
      controllerCaps: string[];
      maxVolumesPerNode: string;
    };
    assert.match(String(report.mutable), /^healthCheckInterval: "10s"$/m);
    assert.ok(report.args.includes('--csi.testnodevolumeattachlimit'));
    assert.ok(report.controllerCaps.includes('PUBLISH_UNPUBLISH_VOLUME'));
    assert.ok(report.controllerCaps.includes('MODIFY_VOLUME'));
    assert.equal(report.maxVolumesPerNode, '4');
  });

  it('without CSI_SANITY_OPTIONAL, leaves attach off and passes no mutable parameters', () => {
    const bin = fakeSanity(dir, 0);
    const env: NodeJS.ProcessEnv = { ...process.env, CSI_SANITY: bin, CSI_SANITY_TMPDIR: dir };
    delete env.CSI_SANITY_OPTIONAL;
    const res = spawnSync('bash', [script], { env, encoding: 'utf8' });
    assert.equal(res.status, 0, res.stderr);
    const report = JSON.parse(readFileSync(path.join(dir, 'report.json'), 'utf8')) as { mutable: string | null; controllerCaps: string[] };
    assert.equal(report.mutable, null);
    assert.equal(report.controllerCaps.includes('PUBLISH_UNPUBLISH_VOLUME'), false);
  });

  it('exits 0 when csi-sanity passes, leaving no driver process behind', () => {
    const bin = fakeSanity(dir, 0);
    const res = spawnSync('bash', [script], { env: { ...process.env, CSI_SANITY: bin, CSI_SANITY_TMPDIR: dir }, encoding: 'utf8' });
    assert.equal(res.status, 0, res.stderr);
    assert.deepEqual(processesMentioning(dir), [], 'no driver of this run is still running');
  });

  it('says clearly where to get csi-sanity when the binary is missing', () => {
    const res = spawnSync('bash', [script], {
      env: { ...process.env, CSI_SANITY: path.join(dir, 'nope'), PATH: '/usr/bin:/bin' },
      encoding: 'utf8',
    });
    assert.equal(res.status, 127);
    assert.match(res.stderr, /no csi-sanity binary found/);
    assert.match(res.stderr, /csi-sanity\/README\.md/);
  });
});
