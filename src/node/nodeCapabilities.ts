import type { HealthApi } from '../config';
import type { NodeServiceCapability } from '../grpc/csiTypes';

type RpcType = NonNullable<NonNullable<NodeServiceCapability['rpc']>['type']>;

/** Node capabilities; health values follow --health-api as for the controller. */
export function nodeCapabilities(api: HealthApi): NodeServiceCapability[] {
  const types: RpcType[] = ['STAGE_UNSTAGE_VOLUME', 'GET_VOLUME_STATS', 'EXPAND_VOLUME'];
  if (api !== 'v1.13') types.push('VOLUME_CONDITION');
  if (api !== 'v1.12') types.push('GET_VOLUME_HEALTH', 'GET_STORAGE_HEALTH');
  return types.map((type) => ({ rpc: { type } }));
}
