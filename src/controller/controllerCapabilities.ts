import type { HealthApi } from '../config';
import type { ControllerServiceCapability } from '../grpc/csiTypes';

type RpcType = NonNullable<NonNullable<ControllerServiceCapability['rpc']>['type']>;

/**
 * The controller capabilities to advertise. Health values follow --health-api: v1.12's
 * VOLUME_CONDITION, v1.13's GET/LIST_VOLUME_HEALTH, or both. GET_SNAPSHOT (alpha) is served
 * but only advertised when asked, because strict conformance suites reject values they do not know.
 * PUBLISH_UNPUBLISH_VOLUME and PUBLISH_READONLY only with --enable-attach; MODIFY_VOLUME always.
 */
export function controllerCapabilities(api: HealthApi, advertiseGetSnapshot: boolean, attach = false): ControllerServiceCapability[] {
  const types: RpcType[] = [
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
  // The node honours ControllerPublishVolume's readonly (a re-publish with another is ALREADY_EXISTS).
  if (attach) types.push('PUBLISH_UNPUBLISH_VOLUME', 'PUBLISH_READONLY');
  if (api !== 'v1.13') types.push('VOLUME_CONDITION');
  if (api !== 'v1.12') types.push('GET_VOLUME_HEALTH', 'LIST_VOLUME_HEALTH');
  if (advertiseGetSnapshot) types.push('GET_SNAPSHOT');
  return types.map((type) => ({ rpc: { type } }));
}
