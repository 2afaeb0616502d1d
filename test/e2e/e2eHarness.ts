import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { findMount, readMountTable } from '../../src/mount/mountTable';
import { connectCsi, type CsiClient } from '../helpers/csiClient';
import { driverBin } from '../helpers/driverProcess';

/**
 * What the end-to-end tests share inside the QEMU guest (e2e/run-e2e.sh boots it): one
 * driver on --backend nfs against nfs-ganesha on the host, the host's fault-ctl.js over HTTP,
 * and file access through killable child processes (a test must not hang on a dead mount).
 */
export const inGuest = process.env.CSI_E2E_GUEST === '1';
export const resultsDir = process.env.CSI_E2E_RESULTS ?? '/tmp/csi-e2e-results';
export const nfsServer = process.env.CSI_E2E_NFS_SERVER ?? '10.0.2.2';
export const nfsPort = process.env.CSI_E2E_NFS_PORT ?? '12049';
/** The export path the driver uses as its share (a per-run directory under /export). */
export const nfsShare = process.env.CSI_E2E_NFS_SHARE ?? '/export';
export const ctlUrl = process.env.CSI_E2E_CTL_URL ?? 'http://10.0.2.2:18999';
// The guest runs under software emulation, tens of times slower than a node: a probe round of
// 40 NFS mounts at once needs more than a second there.
export const intervalMs = 4_000;
export const timeoutMs = 3_000;

/** Root of the node's paths in the guest (its own tmpfs). */
export const workRoot = '/tmp/csi-e2e';
export const mountCap = {
  access_mode: { mode: 'MULTI_NODE_MULTI_WRITER' as const },
  mount: { fs_type: 'nfs4', mount_flags: [] as string[] },
};

/** `describe` that runs only inside the guest (the host has no NFS client). */
export function describeInGuest(title: string, fn: (this: Mocha.Suite) => void): void {
  if (inGuest) describe(title, fn);
  else describe.skip(`${title} (runs in the QEMU guest: npm run test:e2e)`, fn);
}

export interface E2eDriver {
  client: CsiClient;
  child: ChildProcess;
  logFile: string;
  stop(): Promise<void>;
}

let shared: Promise<E2eDriver> | undefined;

/** The one driver of this guest run, started on first use. */
export function sharedDriver(): Promise<E2eDriver> {
  shared ??= startNfsDriver();
  return shared;
}

/**
 * Another driver on the same share, with flags of its own (e.g. --enable-attach): its socket,
 * state directory and log are named after `name`. The caller stops it.
 */
export async function startNfsDriver(name = '', extraArgs: string[] = []): Promise<E2eDriver> {
  mkdirSync(workRoot, { recursive: true });
  mkdirSync(resultsDir, { recursive: true });
  const suffix = name ? `-${name}` : '';
  const socket = path.join(workRoot, `csi${suffix}.sock`);
  const logFile = path.join(resultsDir, `driver${suffix}.log`);
  const args = [
    '--endpoint',
    `unix://${socket}`,
    '--node-id',
    name ? `node-${name}` : 'node-1',
    '--mode',
    'all',
    '--backend',
    'nfs',
    '--nfs-server',
    nfsServer,
    '--nfs-share',
    nfsShare,
    '--nfs-mount-options',
    `nfsvers=4.1,port=${nfsPort}`,
    '--state-dir',
    path.join(workRoot, `state${suffix}`),
    '--kubelet-dir',
    workRoot,
    '--health-port',
    '0',
    '--health-check-interval',
    `${intervalMs / 1000}s`,
    '--health-check-timeout',
    `${timeoutMs / 1000}s`,
    '--log-level',
    'debug',
    ...extraArgs,
  ];
  const out = openSync(logFile, 'a');
  const child = spawn(process.execPath, [driverBin, ...args], { stdio: ['ignore', out, out], cwd: workRoot });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Node starts slowly in an emulated guest on a busy host: a generous bound, not a speed goal.
  const deadline = Date.now() + 180_000;
  while (!existsSync(socket)) {
    if (child.exitCode !== null) throw new Error(`driver exited ${child.exitCode}: ${readFileSync(logFile, 'utf8').slice(-2000)}`);
    if (Date.now() > deadline) throw new Error('driver did not create its socket within 180s');
    await sleep(100);
  }
  const client = connectCsi(`unix://${socket}`);
  await waitFor('driver ready', 30_000, async () => (await client.identity.Probe({})).ready?.value === true);
  return {
    client,
    child,
    logFile,
    async stop() {
      client.close();
      if (child.exitCode === null) child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(t);
    },
  };
}

if (inGuest) {
  after(async function () {
    this.timeout(60_000);
    if (shared) await (await shared).stop();
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns true; returns the time it took. */
export async function waitFor(what: string, limitMs: number, check: () => Promise<boolean> | boolean, everyMs = 200): Promise<number> {
  const t0 = Date.now();
  let last: unknown;
  for (;;) {
    try {
      if (await check()) return Date.now() - t0;
      last = undefined;
    } catch (err) {
      last = err;
    }
    if (Date.now() - t0 > limitMs)
      throw new Error(`${what}: not within ${limitMs}ms${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await sleep(everyMs);
  }
}

/** Runs a command with a hard deadline (SIGKILL); resolves with its exit code and output. */
export function run(
  cmd: string,
  args: string[],
  limitMs = 15_000,
  input?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      'timeout',
      ['-s', 'KILL', String(Math.ceil(limitMs / 1000)), cmd, ...args],
      { encoding: 'utf8', maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
  });
}

/** Writes a file through a killable child (`cp` from the guest's tmpfs), then syncs it. */
export async function writeThrough(file: string, data: string): Promise<void> {
  const tmp = path.join(workRoot, `w-${process.pid}-${Date.now()}`);
  writeFileSync(tmp, data);
  const r = await run('sh', ['-c', 'cp "$1" "$2" && sync "$2"', 'sh', tmp, file]);
  if (r.code !== 0) throw new Error(`writing ${file} failed (${r.code}): ${r.stderr}`);
}

/** Reads a file through a killable child. */
export async function readThrough(file: string, limitMs = 15_000): Promise<string> {
  const r = await run('cat', [file], limitMs);
  if (r.code !== 0) throw new Error(`reading ${file} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

export async function isMounted(p: string): Promise<boolean> {
  return findMount(await readMountTable(), p) !== undefined;
}

export async function mountSource(p: string): Promise<string | undefined> {
  return findMount(await readMountTable(), p)?.source;
}

/** POSTs an action to the host's fault-ctl.js (ganesha stop/cont/kill/restart) or GETs status. */
export function faultCtl(action: 'stop' | 'cont' | 'kill' | 'restart' | 'status'): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${ctlUrl}/${action}`, { method: action === 'status' ? 'GET' : 'POST', timeout: 60_000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body) as { ok: boolean; output: string });
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`fault-ctl ${action} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Records a file that the host checks in ganesha's export dir after the guest has gone:
 * proof that the bytes reached the server, not only the guest's page cache.
 */
export function expectOnServer(relToShare: string, data: string): void {
  mkdirSync(resultsDir, { recursive: true });
  const sha256 = createHash('sha256').update(data).digest('hex');
  appendFileSync(path.join(resultsDir, 'host-checks.tsv'), `${sha256}\t${relToShare}\n`);
}

/** A timing line for the report (results/timings.tsv). */
export function recordTiming(what: string, ms: number): void {
  mkdirSync(resultsDir, { recursive: true });
  appendFileSync(path.join(resultsDir, 'timings.tsv'), `${what}\t${ms}\n`);
}
