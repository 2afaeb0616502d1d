import { Command, Option } from 'commander';
import { defaultDriverName, type RawOptions } from './config';

/** The command line, flags with their environment variables; `--help` lists them all. */
export function buildCli(version: string): Command {
  const env = (o: Option, name: string): Option => o.env(name);
  return new Command('csi-driver')
    .description('CSI driver for NFSv4 and AWS EFS with an embedded volume health monitor')
    .version(version)
    .addOption(
      env(
        new Option('--endpoint <url>', 'CSI endpoint: unix:///path/csi.sock or tcp://host:port (default unix://./.run/csi.sock)'),
        'CSI_ENDPOINT',
      ),
    )
    .addOption(
      env(new Option('--driver-name <name>', `driver name reported by GetPluginInfo (default ${defaultDriverName})`), 'DRIVER_NAME'),
    )
    .addOption(
      env(
        new Option('--node-id <id>', "node id reported by NodeGetInfo (default: this machine's host name, as `hostname` prints it)"),
        'NODE_ID',
      ),
    )
    .addOption(
      env(
        new Option('--mode <mode>', 'services to serve; node and all need root or CAP_SYS_ADMIN (default all)').choices([
          'controller',
          'node',
          'all',
        ]),
        'CSI_MODE',
      ),
    )
    .addOption(env(new Option('--backend <kind>', 'storage backend (default local)').choices(['local', 'nfs']), 'CSI_BACKEND'))
    .addOption(env(new Option('--local-dir <dir>', 'share directory of the local backend (default ./.run/share)'), 'LOCAL_DIR'))
    .addOption(
      env(
        new Option(
          '--kubelet-dir <dir>',
          'staging and target paths must be under it, as real paths without symlinks (default /var/lib/kubelet)',
        ),
        'KUBELET_DIR',
      ),
    )
    .addOption(
      env(new Option('--state-dir <dir>', 'private state: node mount records, controller work mounts (default ./.run/state)'), 'STATE_DIR'),
    )
    .addOption(env(new Option('--nfs-server <host>', 'NFS server name or address'), 'NFS_SERVER'))
    .addOption(env(new Option('--nfs-share <path>', 'exported path on the NFS server (default /)'), 'NFS_SHARE'))
    .addOption(
      env(new Option('--nfs-mount-options <opts>', 'comma-separated NFS mount options (default nfsvers=4.1)'), 'NFS_MOUNT_OPTIONS'),
    )
    .addOption(
      new Option(
        '--nfs-allow-other-servers',
        'accept static volumes whose volume_context names another NFS server (default off); env NFS_ALLOW_OTHER_SERVERS=true|false',
      ),
    )
    .addOption(
      env(new Option('--efs-region <region>', 'AWS region for EFS volume handles (fs-id.efs.<region>.amazonaws.com)'), 'AWS_REGION'),
    )
    .addOption(env(new Option('--efs-dns-name <name>', 'explicit EFS DNS name or mount-target IP for EFS volume handles'), 'EFS_DNS_NAME'))
    .addOption(
      env(
        new Option(
          '--health-api <api>',
          'health API to advertise: v1.12 is safe with every released sidecar; both or v1.13 need sidecars on csi-lib-utils v0.21.0 or later (default v1.12)',
        ).choices(['v1.12', 'v1.13', 'both']),
        'HEALTH_API',
      ),
    )
    .addOption(
      env(
        new Option(
          '--metrics-compat <names>',
          "extra metric names: efs adds the seed design's efs_mount_* and efs_csi_driver_healthy (default none)",
        ).choices(['none', 'efs']),
        'METRICS_COMPAT',
      ),
    )
    .addOption(env(new Option('--health-port <port>', 'port of /healthz and /metrics; 0 disables (default 9910)'), 'HEALTH_PORT'))
    .addOption(env(new Option('--health-address <addr>', 'address of the health port (default 0.0.0.0)'), 'HEALTH_ADDRESS'))
    .addOption(
      env(
        new Option(
          '--http-max-connections <n>',
          'open connections each HTTP server holds at most; the oldest idle one is closed first (default 64)',
        ),
        'HTTP_MAX_CONNECTIONS',
      ),
    )
    .addOption(
      env(new Option('--health-check-interval <duration>', 'time between checks of one mount (default 30s)'), 'HEALTH_CHECK_INTERVAL'),
    )
    .addOption(env(new Option('--health-check-timeout <duration>', 'hard deadline of one check (default 5s)'), 'HEALTH_CHECK_TIMEOUT'))
    .addOption(
      env(
        new Option('--health-failure-threshold <n>', 'consecutive failures before a mount is unhealthy (default 2)'),
        'HEALTH_FAILURE_THRESHOLD',
      ),
    )
    .addOption(
      env(
        new Option('--health-success-threshold <n>', 'consecutive successes before a mount is healthy again (default 2)'),
        'HEALTH_SUCCESS_THRESHOLD',
      ),
    )
    .addOption(env(new Option('--health-concurrency <n>', 'probes running at once (default 4)'), 'HEALTH_CONCURRENCY'))
    .addOption(
      new Option(
        '--enable-fault-injection',
        'serve the fault-injection API (for testing health pipelines); env ENABLE_FAULT_INJECTION=true|false',
      ),
    )
    .addOption(
      env(
        new Option('--fault-injection-address <addr>', 'address of the fault-injection API (default 127.0.0.1)'),
        'FAULT_INJECTION_ADDRESS',
      ),
    )
    .addOption(env(new Option('--fault-injection-port <port>', 'port of the fault-injection API (default 9911)'), 'FAULT_INJECTION_PORT'))
    .addOption(
      env(
        new Option(
          '--max-volumes-per-node <n>',
          'reported by NodeGetInfo and, with --enable-attach, enforced by ControllerPublishVolume; 0 means no limit (default 0)',
        ),
        'MAX_VOLUMES_PER_NODE',
      ),
    )
    .addOption(
      new Option(
        '--enable-attach',
        'serve ControllerPublish/UnpublishVolume (per-node attachment records on the share); NodeStageVolume then requires their publish context; env ENABLE_ATTACH=true|false',
      ),
    )
    .addOption(env(new Option('--log-level <level>', 'trace, debug, info, warn, error (default info)'), 'LOG_LEVEL'))
    .allowExcessArguments(false);
}

/** Parses argv into raw options (validation happens in buildConfig). */
export function parseCli(argv: string[], version: string): RawOptions {
  const cmd = buildCli(version);
  cmd.parse(argv);
  const opts = cmd.opts<RawOptions>();
  if (opts.enableFaultInjection === undefined) {
    const v = envBoolean('ENABLE_FAULT_INJECTION');
    if (v !== undefined) opts.enableFaultInjection = v;
  }
  if (opts.nfsAllowOtherServers === undefined) {
    const v = envBoolean('NFS_ALLOW_OTHER_SERVERS');
    if (v !== undefined) opts.nfsAllowOtherServers = v;
  }
  if (opts.enableAttach === undefined) {
    const v = envBoolean('ENABLE_ATTACH');
    if (v !== undefined) opts.enableAttach = v;
  }
  return opts;
}

/** A boolean from the environment must say true or false: "false" must not switch it on. */
function envBoolean(name: string): boolean | undefined {
  const text = process.env[name];
  if (text === undefined || text === '') return undefined;
  const v = text.trim().toLowerCase();
  if (['true', '1', 'yes'].includes(v)) return true;
  if (['false', '0', 'no'].includes(v)) return false;
  throw new Error(`invalid ${name} "${text}": true or false`);
}
