import { strict as assert } from 'node:assert';
import { stopAndClean } from './conformanceKit';
import { startDriverProcess, type DriverProcess } from '../helpers/driverProcess';

/** The controller capability values csi-sanity v5 (spec v1.12) accepts; anything else fails its check. */
const controllerValuesKnownToV112 = new Set([
  'CREATE_DELETE_VOLUME',
  'PUBLISH_UNPUBLISH_VOLUME',
  'LIST_VOLUMES',
  'GET_CAPACITY',
  'CREATE_DELETE_SNAPSHOT',
  'LIST_SNAPSHOTS',
  'PUBLISH_READONLY',
  'CLONE_VOLUME',
  'EXPAND_VOLUME',
  'LIST_VOLUMES_PUBLISHED_NODES',
  'GET_VOLUME',
  'VOLUME_CONDITION',
  'SINGLE_NODE_MULTI_WRITER',
  'MODIFY_VOLUME',
]);

/** The node capability values csi-sanity v5 (spec v1.12) accepts. */
const nodeValuesKnownToV112 = new Set([
  'STAGE_UNSTAGE_VOLUME',
  'GET_VOLUME_STATS',
  'EXPAND_VOLUME',
  'VOLUME_CONDITION',
  'SINGLE_NODE_MULTI_WRITER',
  'VOLUME_MOUNT_GROUP',
]);

/** What every mode serves and so advertises. */
const servedController = [
  'CREATE_DELETE_VOLUME',
  'CREATE_DELETE_SNAPSHOT',
  'LIST_SNAPSHOTS',
  'CLONE_VOLUME',
  'EXPAND_VOLUME',
  'GET_CAPACITY',
  'LIST_VOLUMES',
  'GET_VOLUME',
  'MODIFY_VOLUME',
];
const servedNode = ['STAGE_UNSTAGE_VOLUME', 'GET_VOLUME_STATS', 'EXPAND_VOLUME'];

async function capabilitiesOf(d: DriverProcess): Promise<{ controller: string[]; node: string[] }> {
  const c = await d.client.controller.ControllerGetCapabilities({});
  const n = await d.client.node.NodeGetCapabilities({});
  return {
    controller: c.capabilities.map((x) => String(x.rpc?.type)),
    node: n.capabilities.map((x) => String(x.rpc?.type)),
  };
}

function assertIncludes(list: string[], wanted: string[]): void {
  for (const w of wanted) assert.ok(list.includes(w), `${w} is advertised (got ${list.join(', ')})`);
}

function assertExcludes(list: string[], unwanted: string[]): void {
  for (const u of unwanted) assert.ok(!list.includes(u), `${u} is not advertised (got ${list.join(', ')})`);
}

describe('conformance: capabilities follow --health-api', () => {
  const drivers: Record<string, DriverProcess> = {};
  before(async () => {
    for (const api of ['v1.12', 'v1.13', 'both']) drivers[api] = await startDriverProcess(['--health-api', api]);
  });
  after(async () => {
    for (const d of Object.values(drivers)) await stopAndClean(d);
  });

  it('with v1.12, advertises only values CSI v1.12 knows, never GET_SNAPSHOT or the v1.13 health values', async () => {
    const caps = await capabilitiesOf(drivers['v1.12']!);
    for (const c of caps.controller) assert.ok(controllerValuesKnownToV112.has(c), `controller capability ${c} is known to v1.12`);
    for (const n of caps.node) assert.ok(nodeValuesKnownToV112.has(n), `node capability ${n} is known to v1.12`);
    assertExcludes(caps.controller, ['GET_SNAPSHOT', 'GET_VOLUME_HEALTH', 'LIST_VOLUME_HEALTH', 'UNKNOWN']);
    assertExcludes(caps.node, ['GET_VOLUME_HEALTH', 'GET_STORAGE_HEALTH', 'UNKNOWN']);
    assertIncludes(caps.controller, [...servedController, 'VOLUME_CONDITION']);
    assertIncludes(caps.node, [...servedNode, 'VOLUME_CONDITION']);
  });

  it('with v1.13, advertises GET_VOLUME_HEALTH and LIST_VOLUME_HEALTH and no VOLUME_CONDITION', async () => {
    const caps = await capabilitiesOf(drivers['v1.13']!);
    assertIncludes(caps.controller, [...servedController, 'GET_VOLUME_HEALTH', 'LIST_VOLUME_HEALTH']);
    assertIncludes(caps.node, [...servedNode, 'GET_VOLUME_HEALTH', 'GET_STORAGE_HEALTH']);
    assertExcludes(caps.controller, ['VOLUME_CONDITION', 'GET_SNAPSHOT']);
    assertExcludes(caps.node, ['VOLUME_CONDITION']);
  });

  it('with both, advertises the v1.12 and the v1.13 health values together', async () => {
    const caps = await capabilitiesOf(drivers['both']!);
    assertIncludes(caps.controller, [...servedController, 'VOLUME_CONDITION', 'GET_VOLUME_HEALTH', 'LIST_VOLUME_HEALTH']);
    assertIncludes(caps.node, [...servedNode, 'VOLUME_CONDITION', 'GET_VOLUME_HEALTH', 'GET_STORAGE_HEALTH']);
    assertExcludes(caps.controller, ['GET_SNAPSHOT']);
  });

  it('never advertises the RPCs that answer UNIMPLEMENTED (attach is off by default)', async () => {
    for (const d of Object.values(drivers)) {
      const caps = await capabilitiesOf(d);
      assertExcludes(caps.controller, ['PUBLISH_UNPUBLISH_VOLUME', 'PUBLISH_READONLY', 'LIST_VOLUMES_PUBLISHED_NODES']);
    }
  });

  it('lists each capability once', async () => {
    for (const d of Object.values(drivers)) {
      const caps = await capabilitiesOf(d);
      assert.equal(new Set(caps.controller).size, caps.controller.length);
      assert.equal(new Set(caps.node).size, caps.node.length);
    }
  });
});
