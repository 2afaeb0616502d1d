import { strict as assert } from 'node:assert';
import { status } from '@grpc/grpc-js';
import { fullReliability, scaled } from '../reliabilityScale';
import { runFuzz, type FuzzOptions, type FuzzResult } from './fuzzRun';

/**
 * FUZZ_SEED picks the run (default below); FUZZ_REQUESTS the number of requests of the main
 * pass (the v1.12 pass sends a quarter as many); FUZZ_CONCURRENCY how many are in flight;
 * FUZZ_ONLY=12,345 replays just those request indices of the seed.
 */
const defaultSeed = 20261126;
const seed = Number(process.env.FUZZ_SEED ?? defaultSeed) >>> 0;
const requests = Number(process.env.FUZZ_REQUESTS ?? scaled(3_000, 12_000));
const concurrency = Number(process.env.FUZZ_CONCURRENCY ?? 8);
const only = process.env.FUZZ_ONLY?.split(',').map((s) => Number(s.trim()));

/** The command that runs this pass again: FUZZ_SEED and FUZZ_REQUESTS are the main pass's, the other pass derives its own. */
function replayHint(grep: string, extra = ''): string {
  return `FUZZ_SEED=${seed} FUZZ_REQUESTS=${requests}${extra} npm run test:reliability -- --grep '${grep}'`;
}

/** Prints what a run did, so that a passing run's numbers are in the test output too. */
function report(title: string, opts: FuzzOptions, r: FuzzResult): void {
  const ok = (rpc: string) => r.stats.count(rpc, status.OK);
  const lines = [
    `${title}: seed ${opts.seed}, ${r.stats.total} requests (${opts.concurrency} in flight) in ${r.seconds.toFixed(1)}s, health API ${opts.healthApi}`,
    `  successful: ${ok('CreateVolume')} CreateVolume, ${ok('CreateSnapshot')} CreateSnapshot, ${ok('NodeStageVolume')} NodeStage, ${ok('NodePublishVolume')} NodePublish, ${ok('NodeUnpublishVolume')} NodeUnpublish, ${ok('NodeUnstageVolume')} NodeUnstage`,
    `  ${r.secretsSent} requests carried secrets; driver.log ${(r.logBytes / 1e6).toFixed(1)} MB; ${r.cleanedUp} mounts taken down through the driver at the end`,
    ...r.stats.lines(),
  ];
  if (r.kubeletLeftovers.length > 0)
    lines.push(
      `  left under kubelet/ (kubelet removes these): ${r.kubeletLeftovers.length}, e.g. ${r.kubeletLeftovers.slice(0, 3).join(', ')}`,
    );
  lines.push(`  findings: ${r.failures.length}`);
  console.log(lines.join('\n'));
}

function assertClean(opts: FuzzOptions, r: FuzzResult, grep: string): void {
  if (r.failures.length === 0) return;
  const shown = r.failures.slice(0, 30).map((f) => {
    const where = f.index === undefined ? '' : ` [request #${f.index}]`;
    return `- ${f.problem}${where}${f.answer ? `\n      answer: ${f.answer}` : ''}${f.request ? `\n      request: ${f.request}` : ''}`;
  });
  const more = r.failures.length > shown.length ? `\n… and ${r.failures.length - shown.length} more` : '';
  const indices = [...new Set(r.failures.map((f) => f.index).filter((i) => i !== undefined))].slice(0, 10);
  assert.fail(
    `${r.failures.length} finding(s) with seed ${opts.seed}\n${shown.join('\n')}${more}\n` +
      `replay: ${replayHint(grep)}${indices.length > 0 ? `\nsingle requests: ${replayHint(grep, ` FUZZ_ONLY=${indices.join(',')} FUZZ_CONCURRENCY=1`)}` : ''}`,
  );
}

describe(`reliability: fuzz (seed ${seed}, ${requests} requests${fullReliability ? ', full' : ''})`, function () {
  this.timeout(60 * 60 * 1000);

  it('survives generated requests to every RPC with well-formed, fitting codes, nothing outside the roots and no secret in the log (health api both)', async () => {
    const opts: FuzzOptions = { seed, requests, concurrency, healthApi: 'both', ...(only ? { only } : {}) };
    const r = await runFuzz(opts);
    report('fuzz', opts, r);
    assertClean(opts, r, 'fuzz.*api both');
    if (!only) assert.ok(r.stats.total >= requests, `only ${r.stats.total} of ${requests} requests were answered`);
  });

  it('does the same against a driver that speaks only the v1.12 health API', async () => {
    const opts: FuzzOptions = {
      seed: (seed + 1) >>> 0,
      requests: Math.ceil(requests / 4),
      concurrency,
      healthApi: 'v1.12',
      ...(only ? { only } : {}),
    };
    const r = await runFuzz(opts);
    report('fuzz v1.12', opts, r);
    assertClean(opts, r, 'fuzz.*v1.12');
    if (!only) assert.ok(r.stats.total >= opts.requests);
  });
});
