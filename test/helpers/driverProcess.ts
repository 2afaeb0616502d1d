import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, existsSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { connectCsi, type CsiClient } from './csiClient';

export const repoRoot = path.resolve(__dirname, '..', '..', '..');
export const driverBin = path.join(repoRoot, 'bin', 'csi-driver');

export interface DriverDirs {
  root: string;
  share: string;
  state: string;
  socket: string;
  log: string;
}

/** Temp roots made by this test process, and the drivers started in them: removed when the process exits. */
const tempRoots = new Set<string>();
const children = new Set<ChildProcess>();

/**
 * At exit, drivers a test left running are killed and every temp root with nothing mounted
 * under it is removed (a root with a mount left is kept: no removal may reach through a mount).
 * KEEP_TEST_DIRS=1 keeps them all.
 */
function removeTempRoots(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  if (process.env.KEEP_TEST_DIRS === '1' || tempRoots.size === 0) return;
  let mountPoints: string[] = [];
  try {
    mountPoints = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => (l.split(' ')[4] ?? '').replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
  } catch {
    return;
  }
  for (const root of tempRoots) {
    if (mountPoints.some((p) => p === root || p.startsWith(root + '/'))) continue;
    try {
      rmSync(root, { recursive: true, force: true });
    } catch {
      // a driver still writing its log as it dies: the next run's clean-up does not know it, so say nothing
    }
  }
}
process.once('exit', removeTempRoots);

/** A fresh temp directory layout for one driver (removed when the test process exits). */
export function driverDirs(prefix = 'csi-test-'): DriverDirs {
  const root = mkdtempSync(path.join(os.tmpdir(), prefix));
  tempRoots.add(root);
  return {
    root,
    share: path.join(root, 'share'),
    state: path.join(root, 'state'),
    socket: path.join(root, 'csi.sock'),
    log: path.join(root, 'driver.log'),
  };
}

export interface DriverProcess {
  child: ChildProcess;
  dirs: DriverDirs;
  client: CsiClient;
  healthPort: number | undefined;
  faultPort: number | undefined;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<number | null>;
  /** SIGKILL, as a crash. */
  kill(): Promise<void>;
  logText(): string;
}

/**
 * A port for a test's driver: random below the kernel's ephemeral range, never the same twice in
 * this process. Another test run on the machine may still take it first: startDriverProcess
 * then starts the driver again on other ports.
 */
const usedPorts = new Set<number>();
export function freePort(): number {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (!usedPorts.has(port)) {
      usedPorts.add(port);
      return port;
    }
  }
}

export interface DriverOptions {
  health?: boolean;
  faults?: boolean;
  /** Options for the node running the driver (a test that takes heap snapshots). */
  nodeArgs?: string[];
  /**
   * Starts the driver in a session of its own, as it runs alone in its container on a node: a
   * kernel that groups tasks by session for CPU (autogroup) then weighs it apart from the
   * caller (the bench's load) instead of together with it.
   */
  ownSession?: boolean;
}

/**
 * Starts the real bin/csi-driver as a child process on a temp unix socket and waits until it
 * answers Probe. A port that another process took meanwhile (a second test run on the machine)
 * is not the driver's fault: it is started again on other ports.
 */
export async function startDriverProcess(
  extraArgs: string[] = [],
  dirs: DriverDirs = driverDirs(),
  opts: DriverOptions = {},
): Promise<DriverProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDriverOnce(extraArgs, dirs, opts);
    } catch (err) {
      if (attempt >= 5 || !/is already in use/.test((err as Error).message)) throw err;
    }
  }
}

async function startDriverOnce(
  extraArgs: string[] = [],
  dirs: DriverDirs = driverDirs(),
  opts: DriverOptions = {},
): Promise<DriverProcess> {
  const healthPort = opts.health ? freePort() : undefined;
  const faultPort = opts.faults ? freePort() : undefined;
  const args = [
    '--endpoint',
    `unix://${dirs.socket}`,
    '--node-id',
    'node-1',
    '--mode',
    'all',
    '--backend',
    'local',
    '--local-dir',
    dirs.share,
    '--state-dir',
    dirs.state,
    // The tests' staging and target paths live in the temp root, as the kubelet's do in its directory.
    '--kubelet-dir',
    dirs.root,
    '--health-port',
    String(healthPort ?? 0),
    '--health-address',
    '127.0.0.1',
    '--log-level',
    'debug',
    ...(faultPort ? ['--enable-fault-injection', '--fault-injection-port', String(faultPort)] : []),
    ...extraArgs,
  ];
  const { openSync } = await import('node:fs');
  const out = openSync(dirs.log, 'a');
  // CSI_DRIVER_NODE_ARGS (for example --cpu-prof) go to the node running the driver: profiling a bench run.
  const nodeArgs = [...(opts.nodeArgs ?? []), ...(process.env.CSI_DRIVER_NODE_ARGS ?? '').split(' ').filter(Boolean)];
  const child = spawn(process.execPath, [...nodeArgs, driverBin, ...args], {
    stdio: ['ignore', out, out],
    cwd: dirs.root,
    detached: opts.ownSession === true,
  });
  children.add(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 20_000;
  while (!existsSync(dirs.socket)) {
    if (child.exitCode !== null) throw new Error(`driver exited: ${readFileSync(dirs.log, 'utf8').slice(-2000)}`);
    if (Date.now() > deadline) throw new Error('driver did not create its socket in time');
    await new Promise((r) => setTimeout(r, 50));
  }
  const client = connectCsi(`unix://${dirs.socket}`);
  // A socket file left by a killed driver exists before the new one listens: retry until Probe answers.
  for (;;) {
    try {
      await client.identity.Probe({}, 2000);
      break;
    } catch (err) {
      if (child.exitCode !== null) throw new Error(`driver exited: ${readFileSync(dirs.log, 'utf8').slice(-2000)}`);
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    child,
    dirs,
    client,
    healthPort,
    faultPort,
    async stop() {
      client.close();
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      client.close();
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
    logText: () => readFileSync(dirs.log, 'utf8'),
  };
}
