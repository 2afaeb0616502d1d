import { strict as assert } from 'node:assert';
import { stopAndClean } from '../../helpers/cleanup';
import { startDriverProcess, type DriverProcess } from '../../helpers/driverProcess';
import { mulberry32 } from '../mulberry32';
import { scaled } from '../reliabilityScale';
import { fuzzRequest, type HttpServerKind } from './httpRequestFactory';
import { sendRaw } from '../../helpers/rawHttp';

/**
 * HTTP_FUZZ_SEED picks the run, HTTP_FUZZ_REQUESTS the number of requests per server;
 * HTTP_FUZZ_ONLY=12,34 replays just those request indices of the seed.
 */
const seed = Number(process.env.HTTP_FUZZ_SEED ?? 20261206) >>> 0;
const requests = Number(process.env.HTTP_FUZZ_REQUESTS ?? scaled(300, 5_000));
const only = process.env.HTTP_FUZZ_ONLY?.split(',').map((s) => Number(s.trim()));
const concurrency = 6;

/** A verdict on one answer: undefined when it is what the request deserves. */
function judge(kind: HttpServerKind, bad: boolean, target: string, status: number | null): string | undefined {
  if (status === null) return 'no HTTP answer';
  if (bad) return status >= 400 && status < 500 ? undefined : `a bad request answered ${status}, not 4xx`;
  // A health endpoint may truthfully say 503; nothing else may be a server error.
  const healthAnswer = kind === 'health' && status === 503 && target.includes('/healthz');
  return status >= 500 && !healthAnswer ? `answered ${status}` : undefined;
}

async function fuzzServer(d: DriverProcess, kind: HttpServerKind, port: number): Promise<string[]> {
  const next = mulberry32(seed ^ (kind === 'fault' ? 0x9e3779b9 : 0));
  const all = Array.from({ length: requests }, (_, i) => ({ i, req: fuzzRequest(next, port) }));
  const chosen = only ? all.filter((r) => only.includes(r.i)) : all;
  const findings: string[] = [];
  const tally = new Map<string, number>();
  for (let k = 0; k < chosen.length; k += concurrency) {
    await Promise.all(
      chosen.slice(k, k + concurrency).map(async ({ i, req }) => {
        const answer = await sendRaw(port, req.bytes, 60_000);
        const verdict = judge(kind, req.badFor.has(kind), req.describe, answer.status);
        const key = `${req.badFor.has(kind) ? 'bad' : 'good'} ${answer.status ?? 'none'}`;
        tally.set(key, (tally.get(key) ?? 0) + 1);
        if (verdict) findings.push(`#${i} ${verdict}: ${req.describe}\n      answer: ${JSON.stringify(answer.head)}`);
      }),
    );
    if (d.child.exitCode !== null) {
      findings.push(`the driver exited (code ${d.child.exitCode}) after request #${k}`);
      break;
    }
  }
  const counts = [...tally]
    .sort()
    .map(([k, n]) => `${k}: ${n}`)
    .join(', ');
  console.log(`    ${kind} server, seed ${seed}, ${chosen.length} requests: ${counts}`);
  return findings;
}

describe('HTTP fuzz: request targets, methods and headers against both HTTP servers', function () {
  this.timeout(600_000);
  let d: DriverProcess;
  before(async () => {
    d = await startDriverProcess([], undefined, { health: true, faults: true });
  });
  after(async () => stopAndClean(d));

  for (const kind of ['health', 'fault'] as const) {
    it(`the ${kind} server survives every request and answers each bad one with a 4xx (seed ${seed})`, async () => {
      const port = kind === 'health' ? d.healthPort! : d.faultPort!;
      const findings = await fuzzServer(d, kind, port);
      const replay = `HTTP_FUZZ_SEED=${seed} HTTP_FUZZ_REQUESTS=${requests} HTTP_FUZZ_ONLY=<indices> npx mocha --no-config --timeout 600000 dist/test/reliability/httpFuzz/httpFuzz.test.js`;
      assert.deepEqual(findings.slice(0, 20), [], `${findings.length} findings; replay with ${replay}`);
      assert.equal(d.child.exitCode, null, 'the driver is still running');
      const live = await fetch(`http://127.0.0.1:${d.healthPort}/healthz/live`);
      assert.equal(live.status, 200);
      await d.client.identity.Probe({}, 10_000);
    });
  }

  it('answers 400 to each request target of the report that used to end the process', async () => {
    for (const port of [d.healthPort!, d.faultPort!]) {
      for (const target of ['//[', 'http://[::1/', 'http://a:99999/', 'http://x:1:2/']) {
        const answer = await sendRaw(port, Buffer.from(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`), 30_000);
        assert.equal(answer.status, 400, `${target} on port ${port}: ${answer.head}`);
      }
    }
    assert.equal(d.child.exitCode, null);
    assert.equal((await fetch(`http://127.0.0.1:${d.healthPort}/healthz/live`)).status, 200);
  });
});
