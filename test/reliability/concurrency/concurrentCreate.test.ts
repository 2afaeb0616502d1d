import { strict as assert } from 'node:assert';
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { idFromName } from '../../../src/backend/ids';
import { stopAndClean } from '../../helpers/cleanup';
import { grpc } from '../../helpers/csiClient';
import { startDriverProcess, type DriverProcess } from '../../helpers/driverProcess';
import { mountCap } from '../../helpers/publish';
import { scaled } from '../reliabilityScale';
import { codeName, retryAsCo, valueOf } from './coRetry';
import { auditShare } from './shareAudit';
import { seedFrom, seededRandom } from './seededRandom';

const MiB = 1024 * 1024;

describe('concurrency: CreateVolume storms (real driver process)', function () {
  this.timeout(scaled(60_000, 600_000));
  const random = seededRandom(seedFrom('CONCURRENCY_SEED'));
  let d: DriverProcess;

  before(async () => {
    console.log(`      concurrency seed ${random.seed} (CONCURRENCY_SEED=${random.seed} replays the same choices; timing still varies)`);
    d = await startDriverProcess();
  });
  after(async () => stopAndClean(d));

  const listAll = async (): Promise<Array<{ id: string; capacity: number }>> => {
    const out: Array<{ id: string; capacity: number }> = [];
    let token = '';
    do {
      const page = await d.client.controller.ListVolumes({ max_entries: 7, starting_token: token });
      for (const e of page.entries) out.push({ id: e.volume!.volume_id, capacity: Number(e.volume!.capacity_bytes) });
      token = page.next_token;
    } while (token);
    return out;
  };

  const rounds = scaled(1, 5);
  const callers = scaled(100, 400);
  const nameCount = scaled(20, 80);

  it(`${callers} concurrent CreateVolume calls over ${nameCount} names make exactly ${nameCount} volumes, one id per name (${rounds} round(s))`, async () => {
    for (let round = 0; round < rounds; round++) {
      // Kubernetes-style names keep their name as id; the rest are hashed (h-<sha256>): both paths.
      const names = Array.from({ length: nameCount }, (_, i) => (i % 4 === 3 ? `Claim ${round} #${i}` : `pvc-storm-${round}-${i}`));
      const capacityOf = new Map(names.map((n, i) => [n, (1 + (i % 5)) * MiB]));
      const order = random.shuffle(Array.from({ length: callers }, (_, i) => names[i % nameCount]!));
      const outcomes = await Promise.all(
        order.map((name) =>
          retryAsCo(() =>
            d.client.controller.CreateVolume({
              name,
              volume_capabilities: [mountCap],
              capacity_range: { required_bytes: String(capacityOf.get(name)), limit_bytes: '0' },
            }),
          ).then((out) => ({ name, out })),
        ),
      );

      const idsByName = new Map<string, Set<string>>();
      let aborted = 0;
      for (const { name, out } of outcomes) {
        const res = valueOf(`CreateVolume ${name}`, out);
        aborted += out.seen.filter((c) => c === grpc.status.ABORTED).length;
        assert.equal(Number(res.volume!.capacity_bytes), capacityOf.get(name), `capacity of ${name}`);
        idsByName.set(name, (idsByName.get(name) ?? new Set()).add(res.volume!.volume_id));
      }
      for (const name of names) {
        assert.deepEqual([...(idsByName.get(name) ?? [])], [idFromName(name)], `every caller of ${name} got the one id`);
      }
      const ids = names.map(idFromName).sort();

      // On disk: exactly these directories, each with a whole record naming its volume.
      assert.deepEqual(readdirSync(path.join(d.dirs.share, 'volumes')).sort(), ids);
      const audit = auditShare(d.dirs.share);
      assert.deepEqual(audit.problems, []);
      for (const name of names) {
        const rec = audit.volumes.get(idFromName(name))!;
        assert.equal(rec.name, name);
        assert.equal(rec.capacityBytes, capacityOf.get(name));
        assert.deepEqual(rec.parameters, {});
        assert.equal(rec.contentSource, undefined);
      }
      const listed = await listAll();
      assert.deepEqual(listed.map((v) => v.id).sort(), ids, 'ListVolumes returns exactly the volumes made');
      for (const v of listed) assert.equal(v.capacity, audit.volumes.get(v.id)!.capacityBytes);

      // Concurrent deletes, several per volume: all succeed and the share is empty again.
      const deletes = await Promise.all(
        random.shuffle([...ids, ...ids, ...ids]).map((id) => retryAsCo(() => d.client.controller.DeleteVolume({ volume_id: id }))),
      );
      for (const out of deletes) valueOf('DeleteVolume', out);
      assert.deepEqual(readdirSync(path.join(d.dirs.share, 'volumes')), []);
      console.log(`      round ${round}: ${callers} callers, ${nameCount} volumes, ${aborted} ABORTED answers retried`);
    }
  });

  it('same name with different capacities at once: one volume, the losers get ALREADY_EXISTS', async () => {
    const names = Array.from({ length: scaled(8, 40) }, (_, i) => `pvc-clash-${i}`);
    const perName = 12;
    const calls = random.shuffle(
      names.flatMap((name) =>
        Array.from({ length: perName }, (_, k) => {
          // required == limit: every size is incompatible with every other.
          const bytes = String((1 + (k % 3)) * MiB);
          return { name, bytes };
        }),
      ),
    );
    const outcomes = await Promise.all(
      calls.map((c) =>
        retryAsCo(() =>
          d.client.controller.CreateVolume({
            name: c.name,
            volume_capabilities: [mountCap],
            capacity_range: { required_bytes: c.bytes, limit_bytes: c.bytes },
          }),
        ).then((out) => ({ ...c, out })),
      ),
    );
    const audit = auditShare(d.dirs.share);
    assert.deepEqual(audit.problems, []);
    assert.deepEqual([...audit.volumes.keys()].sort(), [...names].sort(), 'one volume per name');
    for (const name of names) {
      const winner = String(audit.volumes.get(name)!.capacityBytes);
      for (const c of outcomes.filter((o) => o.name === name)) {
        if (c.bytes === winner) {
          assert.equal(c.out.code, grpc.status.OK, `${name} ${c.bytes}: ${codeName(c.out.code)}`);
          if (c.out.code === grpc.status.OK) assert.equal(c.out.value.volume!.volume_id, name);
        } else {
          assert.equal(c.out.code, grpc.status.ALREADY_EXISTS, `${name} ${c.bytes} against ${winner}: ${codeName(c.out.code)}`);
        }
      }
    }
    for (const name of names) valueOf('DeleteVolume', await retryAsCo(() => d.client.controller.DeleteVolume({ volume_id: name })));
    assert.deepEqual(readdirSync(path.join(d.dirs.share, 'volumes')), []);
  });
});
