/** The generated CSI types the services use, under short names. */
export type { ControllerHandlers } from '../gen/csi/v1/Controller';
export type { NodeHandlers } from '../gen/csi/v1/Node';
export type { IdentityHandlers } from '../gen/csi/v1/Identity';
export type { VolumeCapability__Output as VolumeCapability } from '../gen/csi/v1/VolumeCapability';
export type { Volume } from '../gen/csi/v1/Volume';
export type { Snapshot } from '../gen/csi/v1/Snapshot';
export type { VolumeCondition } from '../gen/csi/v1/VolumeCondition';
export type { VolumeHealth } from '../gen/csi/v1/VolumeHealth';
export type { CapacityRange__Output as CapacityRange } from '../gen/csi/v1/CapacityRange';
export type { ControllerServiceCapability } from '../gen/csi/v1/ControllerServiceCapability';
export type { NodeServiceCapability } from '../gen/csi/v1/NodeServiceCapability';
