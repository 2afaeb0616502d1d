import { existsSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import type { ServiceError } from '@grpc/grpc-js';
import type { MountRegistration } from '../../../src/health/mountRegistration';
import { unmountLeftovers } from '../../helpers/cleanup';
import { driverDirs, startDriverProcess, type DriverProcess } from '../../helpers/driverProcess';
import { diskProblems, mountProblems, newMounts, outsideEntries, takeBaseline, type Baseline } from './containmentAudit';
import { expectationFor } from './expectations';
import { secretMarker } from './fieldValues';
import { describeAnswer, describeRequest, FuzzStats } from './fuzzReport';
import { fuzzWorld, setUpWorld, stagingOf, tearDownWorld, type FuzzWorld } from './fuzzWorld';
import { unsafeToSend } from './pathSafety';
import { generateRequest, type FuzzRequest } from './requestFactory';
import type { Service } from './rpcCatalog';
import { judge, type Outcome } from './verdict';

export interface FuzzOptions {
  seed: number;
  requests: number;
  concurrency: number;
  healthApi: 'both' | 'v1.12' | 'v1.13';
  /** Run only these request indices (a replay of single requests). */
  only?: number[];
  deadlineMs?: number;
  /** Liveness and mount checks after every this many requests. */
  checkEvery?: number;
}

export interface FuzzFailure {
  /** The request that showed it, when one did. */
  index?: number;
  problem: string;
  request?: string;
  answer?: string;
}

export interface FuzzResult {
  failures: FuzzFailure[];
  stats: FuzzStats;
  seconds: number;
  secretsSent: number;
  /** Requests the safety guard kept back (a generator bug when not zero). */
  withheld: number;
  /** Mounts the driver held at the end, taken down through NodeUnpublish/NodeUnstage. */
  cleanedUp: number;
  /** Paths under kubelet/ that the run left (kubelet's to remove, reported for information). */
  kubeletLeftovers: string[];
  logBytes: number;
}

type UnaryFn = (req: unknown, deadlineMs?: number) => Promise<unknown>;

async function call(d: DriverProcess, service: Service, rpc: string, req: unknown, deadlineMs: number): Promise<Outcome> {
  const fn = (d.client as unknown as Record<Service, Record<string, UnaryFn>>)[service][rpc];
  if (!fn) return { code: -1, malformed: `the client has no ${service}.${rpc}`, ms: 0 };
  const t0 = Date.now();
  try {
    const res = await fn(req, deadlineMs);
    return { code: 0, res, ms: Date.now() - t0 };
  } catch (err) {
    const e = err as Partial<ServiceError>;
    if (typeof e.code !== 'number') return { code: -1, malformed: String(err), ms: Date.now() - t0 };
    return { code: e.code, ...(typeof e.details === 'string' ? { details: e.details } : {}), ms: Date.now() - t0 };
  }
}

/**
 * One fuzz run against a fresh driver process: the requests with `concurrency` in flight, checks
 * every `checkEvery` requests and at the end, then a clean-up through the driver and an audit of
 * the disk, the mount table and the log. Never throws for what the driver did: every finding
 * lands in `failures`.
 */
export async function runFuzz(opts: FuzzOptions): Promise<FuzzResult> {
  const started = Date.now();
  const dirs = driverDirs('csi-fuzz-');
  const w = fuzzWorld(opts.seed, dirs);
  const failures: FuzzFailure[] = [];
  const seen = new Set<string>();
  const fail = (f: FuzzFailure) => {
    const key = `${f.index ?? ''}|${f.problem}`;
    if (!seen.has(key)) failures.push(f);
    seen.add(key);
  };
  const stats = new FuzzStats();
  const result = { failures, stats, seconds: 0, secretsSent: 0, withheld: 0, cleanedUp: 0, kubeletLeftovers: [] as string[], logBytes: 0 };
  setUpWorld(w);
  let d: DriverProcess | undefined;
  try {
    const baseline = await takeBaseline(w);
    // The later --kubelet-dir wins over the helper's (the whole temp root): here only kubelet/ is the kubelet's.
    const args = [
      '--kubelet-dir',
      w.kubelet,
      '--health-api',
      opts.healthApi,
      '--health-check-interval',
      '2s',
      '--health-check-timeout',
      '1s',
    ];
    d = await startDriverProcess(args, dirs, { health: true });
    await warmUp(d, w, fail);
    await sendAll(d, w, opts, baseline, stats, fail, result);
    if (d.child.exitCode === null && d.child.signalCode === null) {
      await finalChecks(d, w, baseline, fail);
      result.cleanedUp = await cleanUpThroughDriver(d, w, baseline, fail);
      const exit = await d.stop();
      if (exit !== 0) fail({ problem: `the driver exited with ${exit} on SIGTERM` });
    }
    const disk = diskProblems(baseline, w);
    disk.problems.forEach((problem) => fail({ problem }));
    result.kubeletLeftovers = disk.kubeletLeftovers;
    result.logBytes = checkLog(dirs.log, fail);
  } finally {
    await d?.kill();
    await unmountLeftovers(dirs.root);
    await removeOutsideLeftovers(w);
    tearDownWorld(w);
    const keep = process.env.KEEP_TEST_DIRS === '1';
    if (!keep && existsSync(dirs.root)) rmSync(dirs.root, { recursive: true, force: true });
  }
  result.seconds = (Date.now() - started) / 1000;
  return result;
}

/**
 * Before the generated requests: every pool volume, two snapshots, and every other volume staged
 * where kubelet would stage it, so that valid publishes meet staged volumes from the start.
 */
async function warmUp(d: DriverProcess, w: FuzzWorld, fail: (f: FuzzFailure) => void): Promise<void> {
  const cap = { access_mode: { mode: 'MULTI_NODE_MULTI_WRITER' }, mount: { fs_type: '', mount_flags: [] } };
  const steps: Array<[Service, string, Record<string, unknown>]> = [
    ...w.volumeNames.map((name): [Service, string, Record<string, unknown>] => [
      'controller',
      'CreateVolume',
      { name, volume_capabilities: [cap] },
    ]),
    ...[0, 1].map((k): [Service, string, Record<string, unknown>] => [
      'controller',
      'CreateSnapshot',
      { name: w.snapshotNames[k], source_volume_id: w.volumeIds[k] },
    ]),
    ...w.volumeIds
      .map((id, i): [Service, string, Record<string, unknown>] => [
        'node',
        'NodeStageVolume',
        { volume_id: id, staging_target_path: stagingOf(w, i), volume_capability: cap },
      ])
      .filter((_, i) => i % 2 === 0),
  ];
  for (const [service, rpc, req] of steps) {
    const o = await call(d, service, rpc, req, 60_000);
    if (o.code !== 0)
      fail({ problem: `warm-up: ${rpc} ${JSON.stringify(req).slice(0, 200)} answered ${describeAnswer(o.code, o.details)}` });
  }
}

async function sendAll(
  d: DriverProcess,
  w: FuzzWorld,
  opts: FuzzOptions,
  baseline: Baseline,
  stats: FuzzStats,
  fail: (f: FuzzFailure) => void,
  result: { secretsSent: number; withheld: number },
): Promise<void> {
  const indices = opts.only ?? Array.from({ length: opts.requests }, (_, i) => i);
  const deadlineMs = opts.deadlineMs ?? 30_000;
  const checkEvery = opts.checkEvery ?? 500;
  const policy = {
    kubeletDir: w.kubelet,
    forbidden: [w.dirs.share, w.dirs.state],
    symlinks: w.symlinks,
    foreignMounts: [w.decoys.foreignMount],
  };
  const inFlight = new Map<number, FuzzRequest>();
  let next = 0;
  let done = 0;
  let stop = false;
  const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
    stop = true;
    const requests = [...inFlight.values()];
    fail({
      problem: `the driver died (exit ${code}, signal ${signal}) with ${requests.length} request(s) in flight`,
      ...(requests[0] ? { index: requests[0].index } : {}),
      request: requests.map((r) => describeRequest(r, 400)).join('\n      ') || 'none',
    });
  };
  d.child.once('exit', onExit);
  const worker = async (): Promise<void> => {
    while (!stop && next < indices.length) {
      const index = indices[next++] as number;
      const fr = generateRequest(opts.seed, index, w);
      const unsafe = unsafeToSend(fr.spec.rpc, fr.req, w);
      if (unsafe) {
        result.withheld++;
        fail({ index, problem: `fuzzer bug: request withheld, ${unsafe}`, request: describeRequest(fr) });
        continue;
      }
      const secrets = fr.req.secrets;
      if (secrets && typeof secrets === 'object' && Object.keys(secrets).length > 0) result.secretsSent++;
      const exp = expectationFor(fr.spec.rpc, fr.req, policy);
      inFlight.set(index, fr);
      const o = await call(d, fr.spec.service, fr.spec.rpc, fr.req, deadlineMs);
      inFlight.delete(index);
      if (stop) return;
      stats.record(fr.spec.rpc, fr.mode, o.code);
      for (const problem of judge(fr.spec.rpc, fr.req, exp, o))
        fail({ index, problem, request: describeRequest(fr), answer: describeAnswer(o.code, o.details) });
      if (++done % checkEvery === 0) await periodicChecks(d, w, baseline, fail, `after ${done} requests`);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  d.child.off('exit', onExit);
}

async function periodicChecks(
  d: DriverProcess,
  w: FuzzWorld,
  baseline: Baseline,
  fail: (f: FuzzFailure) => void,
  when: string,
): Promise<void> {
  const probe = await call(d, 'identity', 'Probe', {}, 10_000);
  const ready = (probe.res as { ready?: { value?: boolean } } | undefined)?.ready?.value;
  if (probe.code !== 0 || ready !== true)
    fail({ problem: `Probe ${when}: ${describeAnswer(probe.code, probe.details)}, ready ${String(ready)}` });
  for (const problem of await mountProblems(baseline, w)) fail({ problem });
}

async function getText(port: number, urlPath: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${urlPath}`);
  return { status: res.status, body: await res.text() };
}

async function finalChecks(d: DriverProcess, w: FuzzWorld, baseline: Baseline, fail: (f: FuzzFailure) => void): Promise<void> {
  await periodicChecks(d, w, baseline, fail, 'at the end');
  const port = d.healthPort as number;
  const live = await getText(port, '/healthz/live');
  if (live.status !== 200) fail({ problem: `/healthz/live answers ${live.status}: ${live.body.slice(0, 200)}` });
  const metrics = await getText(port, '/metrics');
  if (metrics.body.includes(secretMarker)) fail({ problem: 'a secret in /metrics' });
  const mounts = await getText(port, '/healthz/mounts');
  if (mounts.body.includes(secretMarker)) fail({ problem: 'a secret in /healthz/mounts' });
}

/**
 * Takes down every mount the driver recorded, publishes first, through NodeUnpublish and
 * NodeUnstage; then nothing of ours may be mounted any more. Returns how many it took down.
 */
async function cleanUpThroughDriver(d: DriverProcess, w: FuzzWorld, baseline: Baseline, fail: (f: FuzzFailure) => void): Promise<number> {
  const file = path.join(w.dirs.state, 'node-mounts.json');
  const records = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as MountRegistration[]) : [];
  const ordered = [...records.filter((r) => r.kind === 'publish'), ...records.filter((r) => r.kind === 'staging')];
  for (const r of ordered) {
    const [rpc, req] =
      r.kind === 'publish'
        ? ['NodeUnpublishVolume', { volume_id: r.volumeId, target_path: r.path }]
        : ['NodeUnstageVolume', { volume_id: r.volumeId, staging_target_path: r.path }];
    const o = await call(d, 'node', rpc, req, 60_000);
    if (o.code !== 0) fail({ problem: `clean-up: ${rpc} of ${r.path} answered ${describeAnswer(o.code, o.details)}` });
  }
  const left = await newMounts(baseline, w);
  for (const e of left)
    fail({ problem: `still mounted after the driver took down all it recorded: ${e.mountPoint} (${e.fsType} ${e.root})` });
  for (const e of left.reverse()) await unmountLeftovers(e.mountPoint);
  return ordered.length;
}

/** Unmounts and removes whatever the run left outside its root; the decoys are only unmounted from (tearDownWorld removes them). */
async function removeOutsideLeftovers(w: FuzzWorld): Promise<void> {
  const decoys = new Set(Object.values(w.decoys));
  for (const p of outsideEntries(w)) {
    await unmountLeftovers(p);
    if (!decoys.has(p)) rmSync(p, { recursive: true, force: true });
  }
}

/** The driver's log must hold no secret; returns its size. */
function checkLog(logFile: string, fail: (f: FuzzFailure) => void): number {
  const log = readFileSync(logFile);
  const at = log.indexOf(secretMarker);
  if (at >= 0) fail({ problem: `a secret in driver.log: …${log.subarray(Math.max(0, at - 200), at + 100).toString('utf8')}…` });
  return log.length;
}
