import type { FieldKind, FieldValues } from './fieldValues';

export type Service = 'identity' | 'controller' | 'node';
export type Request = Record<string, unknown>;

/** One RPC of proto/csi.proto as the fuzzer sees it. */
export interface RpcSpec {
  service: Service;
  rpc: string;
  /** Every field of the request message and what it holds. */
  fields: Readonly<Record<string, FieldKind>>;
  /** A request a CO could send: fields agree with each other and with the run's world. */
  valid(f: FieldValues): Request;
  /** How often it is picked, relative to the others. */
  weight: number;
}

const GiB = 1024 ** 3;
const optional = (f: FieldValues, p: number, make: () => unknown): unknown => (f.rng.chance(p) ? make() : undefined);

/** Every RPC of the Identity, Controller and Node services. */
export const rpcCatalog: readonly RpcSpec[] = [
  { service: 'identity', rpc: 'GetPluginInfo', weight: 1, fields: {}, valid: () => ({}) },
  { service: 'identity', rpc: 'GetPluginCapabilities', weight: 1, fields: {}, valid: () => ({}) },
  { service: 'identity', rpc: 'Probe', weight: 1, fields: {}, valid: () => ({}) },
  {
    service: 'controller',
    rpc: 'CreateVolume',
    weight: 4,
    fields: {
      name: 'name',
      capacity_range: 'range',
      volume_capabilities: 'caps',
      parameters: 'createParams',
      secrets: 'secrets',
      volume_content_source: 'source',
      accessibility_requirements: 'topologyReq',
      mutable_parameters: 'map',
    },
    valid: (f) => ({
      name: f.volumeName(),
      capacity_range: optional(f, 0.7, () => f.validRange()),
      volume_capabilities: [f.validCap()],
      parameters: f.rng.pick([{}, { 'csi.storage.k8s.io/pvc/name': 'claim-1' }, { mountOptions: 'hard,nfsvers=4.1' }]),
      secrets: f.secrets(),
      volume_content_source: optional(f, 0.2, () =>
        f.rng.chance(0.5)
          ? { snapshot: { snapshot_id: f.rng.pick(f.w.snapshotIds) } }
          : { volume: { volume_id: f.volumeId(f.otherSlot(1)) } },
      ),
      accessibility_requirements: optional(f, 0.1, () => ({ requisite: [{ segments: { zone: 'a' } }], preferred: [] })),
    }),
  },
  {
    service: 'controller',
    rpc: 'DeleteVolume',
    weight: 2,
    fields: { volume_id: 'volumeId', secrets: 'secrets' },
    valid: (f) => ({ volume_id: f.volumeId(), secrets: f.secrets() }),
  },
  {
    service: 'controller',
    rpc: 'ControllerPublishVolume',
    weight: 1,
    fields: {
      volume_id: 'volumeId',
      node_id: 'nodeId',
      volume_capability: 'cap',
      readonly: 'bool',
      secrets: 'secrets',
      volume_context: 'context',
    },
    valid: (f) => ({
      volume_id: f.volumeId(),
      node_id: 'node-1',
      volume_capability: f.validCap(),
      readonly: false,
      secrets: f.secrets(),
      volume_context: f.validContext(),
    }),
  },
  {
    service: 'controller',
    rpc: 'ControllerUnpublishVolume',
    weight: 1,
    fields: { volume_id: 'volumeId', node_id: 'nodeId', secrets: 'secrets' },
    valid: (f) => ({ volume_id: f.volumeId(), node_id: 'node-1', secrets: f.secrets() }),
  },
  {
    service: 'controller',
    rpc: 'ValidateVolumeCapabilities',
    weight: 1,
    fields: {
      volume_id: 'volumeId',
      volume_context: 'context',
      volume_capabilities: 'caps',
      parameters: 'map',
      secrets: 'secrets',
      mutable_parameters: 'map',
    },
    valid: (f) => ({
      volume_id: f.volumeId(),
      volume_context: f.validContext(),
      volume_capabilities: [f.validCap()],
      parameters: {},
      secrets: f.secrets(),
    }),
  },
  {
    service: 'controller',
    rpc: 'ListVolumes',
    weight: 1,
    fields: { max_entries: 'maxEntries', starting_token: 'token' },
    valid: (f) => ({ max_entries: f.rng.pick([0, 1, 2, 5]), starting_token: f.validToken() }),
  },
  {
    service: 'controller',
    rpc: 'ControllerListVolumeHealth',
    weight: 1,
    fields: { max_entries: 'maxEntries', starting_token: 'token', secrets: 'secrets' },
    valid: (f) => ({ max_entries: f.rng.pick([0, 1, 2, 5]), starting_token: f.validToken(), secrets: f.secrets() }),
  },
  {
    service: 'controller',
    rpc: 'ControllerGetVolumeHealth',
    weight: 1,
    fields: { volume_id: 'volumeId', secrets: 'secrets' },
    valid: (f) => ({ volume_id: f.volumeId(), secrets: f.secrets() }),
  },
  {
    service: 'controller',
    rpc: 'GetCapacity',
    weight: 1,
    fields: { volume_capabilities: 'caps', parameters: 'map', accessible_topology: 'topology' },
    valid: (f) => ({
      volume_capabilities: f.rng.chance(0.3) ? [] : [f.validCap()],
      parameters: {},
      accessible_topology: optional(f, 0.2, () => ({ segments: { zone: 'a' } })),
    }),
  },
  { service: 'controller', rpc: 'ControllerGetCapabilities', weight: 1, fields: {}, valid: () => ({}) },
  {
    service: 'controller',
    rpc: 'CreateSnapshot',
    weight: 2,
    fields: { source_volume_id: 'volumeId', name: 'name', secrets: 'secrets', parameters: 'snapParams' },
    valid: (f) => {
      const k = f.snapshotSlot();
      // Mostly the snapshot's own source volume, so that retries are idempotent; sometimes another (ALREADY_EXISTS).
      return {
        source_volume_id: f.volumeId(f.rng.chance(0.9) ? k % f.w.volumeIds.length : f.slot),
        name: f.w.snapshotNames[k],
        secrets: f.secrets(),
        parameters: f.rng.pick([{}, { 'csi.storage.k8s.io/volumesnapshot/name': 'snap-1' }]),
      };
    },
  },
  {
    service: 'controller',
    rpc: 'DeleteSnapshot',
    weight: 1,
    fields: { snapshot_id: 'snapshotId', secrets: 'secrets' },
    valid: (f) => ({ snapshot_id: f.rng.pick(f.w.snapshotIds), secrets: f.secrets() }),
  },
  {
    service: 'controller',
    rpc: 'ListSnapshots',
    weight: 1,
    fields: {
      max_entries: 'maxEntries',
      starting_token: 'token',
      source_volume_id: 'volumeId',
      snapshot_id: 'snapshotId',
      secrets: 'secrets',
    },
    valid: (f) => ({
      max_entries: f.rng.pick([0, 1, 3]),
      starting_token: f.validToken(),
      source_volume_id: f.rng.chance(0.3) ? f.volumeId() : '',
      snapshot_id: f.rng.chance(0.3) ? f.rng.pick(f.w.snapshotIds) : '',
      secrets: f.secrets(),
    }),
  },
  {
    service: 'controller',
    rpc: 'GetSnapshot',
    weight: 1,
    fields: { snapshot_id: 'snapshotId', secrets: 'secrets' },
    valid: (f) => ({ snapshot_id: f.rng.pick(f.w.snapshotIds), secrets: f.secrets() }),
  },
  {
    service: 'controller',
    rpc: 'ControllerExpandVolume',
    weight: 2,
    fields: { volume_id: 'volumeId', capacity_range: 'range', secrets: 'secrets', volume_capability: 'cap' },
    valid: (f) => ({
      volume_id: f.volumeId(),
      capacity_range: { required_bytes: String(f.rng.between(1, 3) * GiB), limit_bytes: f.rng.pick(['0', String(10 * GiB)]) },
      secrets: f.secrets(),
      volume_capability: optional(f, 0.5, () => f.validCap()),
    }),
  },
  {
    service: 'controller',
    rpc: 'ControllerGetVolume',
    weight: 1,
    fields: { volume_id: 'volumeId' },
    valid: (f) => ({ volume_id: f.volumeId() }),
  },
  {
    service: 'controller',
    rpc: 'ControllerModifyVolume',
    weight: 1,
    fields: { volume_id: 'volumeId', secrets: 'secrets', mutable_parameters: 'map' },
    valid: (f) => ({
      volume_id: f.volumeId(),
      secrets: f.secrets(),
      mutable_parameters: { healthCheckInterval: f.rng.pick(['10s', '1m']) },
    }),
  },
  {
    service: 'node',
    rpc: 'NodeStageVolume',
    weight: 4,
    fields: {
      volume_id: 'volumeId',
      publish_context: 'map',
      staging_target_path: 'path',
      volume_capability: 'cap',
      secrets: 'secrets',
      volume_context: 'context',
    },
    valid: (f) => ({
      volume_id: f.volumeId(),
      publish_context: {},
      staging_target_path: f.staging(f.otherSlot()),
      volume_capability: f.validCap(),
      secrets: f.secrets(),
      volume_context: f.validContext(),
    }),
  },
  {
    service: 'node',
    rpc: 'NodeUnstageVolume',
    weight: 3,
    fields: { volume_id: 'volumeId', staging_target_path: 'path' },
    valid: (f) => ({ volume_id: f.volumeId(), staging_target_path: f.staging(f.otherSlot()) }),
  },
  {
    service: 'node',
    rpc: 'NodePublishVolume',
    weight: 4,
    fields: {
      volume_id: 'volumeId',
      publish_context: 'map',
      staging_target_path: 'path',
      target_path: 'path',
      volume_capability: 'cap',
      readonly: 'bool',
      secrets: 'secrets',
      volume_context: 'context',
    },
    valid: (f) => ({
      volume_id: f.volumeId(),
      publish_context: {},
      staging_target_path: f.staging(f.otherSlot()),
      target_path: f.target(f.otherSlot()),
      volume_capability: f.validCap(),
      readonly: f.rng.chance(0.3),
      secrets: f.secrets(),
      volume_context: f.validContext(),
    }),
  },
  {
    service: 'node',
    rpc: 'NodeUnpublishVolume',
    weight: 3,
    fields: { volume_id: 'volumeId', target_path: 'path' },
    valid: (f) => ({ volume_id: f.volumeId(), target_path: f.target(f.otherSlot()) }),
  },
  {
    service: 'node',
    rpc: 'NodeGetVolumeStats',
    weight: 1,
    fields: { volume_id: 'volumeId', volume_path: 'path', staging_target_path: 'path' },
    valid: (f) => ({
      volume_id: f.volumeId(),
      volume_path: f.rng.chance(0.7) ? f.target() : f.staging(),
      staging_target_path: f.rng.chance(0.5) ? f.staging() : '',
    }),
  },
  {
    service: 'node',
    rpc: 'NodeGetVolumeHealth',
    weight: 1,
    fields: { volume_id: 'volumeId', volume_publish_path: 'path', staging_target_path: 'path' },
    valid: (f) => ({
      volume_id: f.volumeId(),
      volume_publish_path: f.rng.chance(0.5) ? f.target() : '',
      staging_target_path: f.rng.chance(0.5) ? f.staging() : '',
    }),
  },
  { service: 'node', rpc: 'NodeGetStorageHealth', weight: 1, fields: { secrets: 'secrets' }, valid: (f) => ({ secrets: f.secrets() }) },
  {
    service: 'node',
    rpc: 'NodeExpandVolume',
    weight: 1,
    fields: {
      volume_id: 'volumeId',
      volume_path: 'path',
      capacity_range: 'range',
      staging_target_path: 'path',
      volume_capability: 'cap',
      secrets: 'secrets',
    },
    valid: (f) => ({
      volume_id: f.volumeId(),
      volume_path: f.target(),
      capacity_range: { required_bytes: String(2 * GiB) },
      staging_target_path: f.staging(),
      volume_capability: optional(f, 0.5, () => f.validCap()),
      secrets: f.secrets(),
    }),
  },
  { service: 'node', rpc: 'NodeGetCapabilities', weight: 1, fields: {}, valid: () => ({}) },
  { service: 'node', rpc: 'NodeGetInfo', weight: 1, fields: {}, valid: () => ({}) },
];
