import * as path from 'node:path';
import { Command, Option } from 'commander';
import type { CsiCall } from './csiCall';

/** A filesystem volume that one node may write: what the quick start mounts. */
const mountCapability = { access_mode: { mode: 'SINGLE_NODE_WRITER' }, mount: { fs_type: '', mount_flags: [] } };

/** `key=value` pairs of --context, collected. */
function collectContext(value: string, previous: Record<string, string>): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new Error(`--context "${value}": key=value`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

function parseSize(text: string): string {
  const m = /^(\d+)([KMGT]i)?$/.exec(text.trim());
  if (!m?.[1]) throw new Error(`--size "${text}": a number of bytes, or with Ki, Mi, Gi, Ti`);
  const unit = { Ki: 1n << 10n, Mi: 1n << 20n, Gi: 1n << 30n, Ti: 1n << 40n }[m[2] ?? ''] ?? 1n;
  return (BigInt(m[1]) * unit).toString();
}

/** Paths are sent as absolute paths: the driver resolves nothing relative to its own directory. */
const abs = (p: string): string => path.resolve(p);

/**
 * The csi-client program: one CSI call per command, the response printed as JSON. `connect` is
 * called once a command is chosen, with the endpoint; `print` receives each response.
 */
export function buildClientCli(connect: (endpoint: string) => CsiCall, print: (res: unknown) => void): Command {
  const program = new Command('csi-client')
    .description('Talks CSI to a running csi-driver: create, stage, publish, unpublish, unstage and delete a volume, read its stats')
    .addOption(
      new Option('--endpoint <url>', 'the driver: unix:///path/csi.sock or host:port').env('CSI_ENDPOINT').default('unix://.run/csi.sock'),
    )
    .showHelpAfterError();
  /** The endpoint as gRPC takes it: a relative unix path made absolute. */
  const target = (): string => {
    const endpoint = program.opts<{ endpoint: string }>().endpoint;
    return endpoint.startsWith('unix://') && !endpoint.startsWith('unix:///')
      ? `unix://${abs(endpoint.slice('unix://'.length))}`
      : endpoint;
  };
  const run = async (service: 'Identity' | 'Controller' | 'Node', method: string, req: object): Promise<Record<string, unknown>> => {
    const res = await connect(target())(service, method, req);
    print(res);
    return res;
  };
  /** The volume_context to stage with: --context pairs, else what the controller reports for the volume. */
  const contextFor = async (volumeId: string, given: Record<string, string>): Promise<Record<string, string>> => {
    if (Object.keys(given).length > 0) return given;
    try {
      const res = await connect(target())('Controller', 'ControllerGetVolume', { volume_id: volumeId });
      return (res.volume as { volume_context?: Record<string, string> } | undefined)?.volume_context ?? {};
    } catch {
      return {};
    }
  };

  program
    .command('probe')
    .description('Identity Probe and GetPluginInfo')
    .action(async () => {
      await run('Identity', 'GetPluginInfo', {});
      await run('Identity', 'Probe', {});
    });
  program
    .command('create-volume <name>')
    .description('CreateVolume (a filesystem volume, single-node writer)')
    .option('--size <bytes>', 'requested capacity, e.g. 1Gi', '1Gi')
    .action(async (name: string, o: { size: string }) => {
      await run('Controller', 'CreateVolume', {
        name,
        capacity_range: { required_bytes: parseSize(o.size) },
        volume_capabilities: [mountCapability],
      });
    });
  program
    .command('delete-volume <volume-id>')
    .description('DeleteVolume')
    .action(async (volumeId: string) => {
      await run('Controller', 'DeleteVolume', { volume_id: volumeId });
    });
  program
    .command('stage <volume-id> <staging-path>')
    .description("NodeStageVolume; the path must be under the driver's --kubelet-dir")
    .option(
      '--context <key=value>',
      'volume_context entry (repeatable); default: the context ControllerGetVolume reports',
      collectContext,
      {},
    )
    .action(async (volumeId: string, staging: string, o: { context: Record<string, string> }) => {
      const volume_context = await contextFor(volumeId, o.context);
      await run('Node', 'NodeStageVolume', {
        volume_id: volumeId,
        staging_target_path: abs(staging),
        volume_capability: mountCapability,
        volume_context,
      });
    });
  program
    .command('unstage <volume-id> <staging-path>')
    .description('NodeUnstageVolume')
    .action(async (volumeId: string, staging: string) => {
      await run('Node', 'NodeUnstageVolume', { volume_id: volumeId, staging_target_path: abs(staging) });
    });
  program
    .command('publish <volume-id> <staging-path> <target-path>')
    .description('NodePublishVolume: bind the staged volume at the target path (under --kubelet-dir)')
    .option('--readonly', 'publish read-only', false)
    .action(async (volumeId: string, staging: string, target: string, o: { readonly: boolean }) => {
      await run('Node', 'NodePublishVolume', {
        volume_id: volumeId,
        staging_target_path: abs(staging),
        target_path: abs(target),
        volume_capability: mountCapability,
        readonly: o.readonly,
      });
    });
  program
    .command('unpublish <volume-id> <target-path>')
    .description('NodeUnpublishVolume')
    .action(async (volumeId: string, target: string) => {
      await run('Node', 'NodeUnpublishVolume', { volume_id: volumeId, target_path: abs(target) });
    });
  program
    .command('stats <volume-id> <volume-path>')
    .description('NodeGetVolumeStats: usage and volume condition')
    .action(async (volumeId: string, p: string) => {
      await run('Node', 'NodeGetVolumeStats', { volume_id: volumeId, volume_path: abs(p) });
    });
  return program;
}
