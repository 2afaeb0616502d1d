import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { stopAndClean } from './conformanceKit';
import { startDriverProcess, repoRoot, type DriverProcess } from '../helpers/driverProcess';

const packageVersion = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;

describe('conformance: Identity service (--health-api v1.12)', () => {
  let d: DriverProcess;
  before(async () => {
    d = await startDriverProcess(['--health-api', 'v1.12']);
  });
  after(() => stopAndClean(d));

  it('GetPluginInfo returns a non-empty name and the package version', async () => {
    const info = await d.client.identity.GetPluginInfo({});
    assert.ok(info.name.length > 0, 'name is set');
    assert.ok(info.name.length <= 63, 'name fits the 63 characters the spec allows');
    assert.match(info.name, /^[a-zA-Z0-9][a-zA-Z0-9.-]*[a-zA-Z0-9]$/);
    assert.equal(info.vendor_version, packageVersion);
  });

  it('GetPluginCapabilities advertises the controller and group controller services and online expansion in mode all', async () => {
    const caps = await d.client.identity.GetPluginCapabilities({});
    const services = caps.capabilities.map((c) => c.service?.type).filter((t) => t);
    const expansion = caps.capabilities.map((c) => c.volume_expansion?.type).filter((t) => t);
    assert.deepEqual(services, ['CONTROLLER_SERVICE', 'GROUP_CONTROLLER_SERVICE']);
    assert.deepEqual(expansion, ['ONLINE']);
  });

  it('Probe answers ready', async () => {
    const res = await d.client.identity.Probe({});
    assert.equal(res.ready?.value, true);
  });
});

describe('conformance: Identity service in node mode', () => {
  let d: DriverProcess;
  before(async () => {
    d = await startDriverProcess(['--health-api', 'v1.12', '--mode', 'node', '--driver-name', 'conformance.example.org']);
  });
  after(() => stopAndClean(d));

  it('GetPluginInfo reports the name given by --driver-name', async () => {
    const info = await d.client.identity.GetPluginInfo({});
    assert.equal(info.name, 'conformance.example.org');
  });

  it('GetPluginCapabilities does not advertise the controller service', async () => {
    const caps = await d.client.identity.GetPluginCapabilities({});
    assert.equal(
      caps.capabilities.some((c) => c.service?.type === 'CONTROLLER_SERVICE' || c.service?.type === 'GROUP_CONTROLLER_SERVICE'),
      false,
    );
  });
});
