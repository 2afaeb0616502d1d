import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { driverDirs, startDriverProcess, type DriverProcess } from '../helpers/driverProcess';
import { expectCode, grpc } from '../helpers/csiClient';
import { createVolume, listTree, stopAndClean, unmountLeftovers, volumeRequest } from './conformanceKit';

const dataOf = (d: DriverProcess, id: string) => path.join(d.dirs.share, 'volumes', id, 'data');

describe('conformance: snapshot, restore, clone and delete stay inside their volumes', () => {
  describe('on a share with room', () => {
    let d: DriverProcess;
    before(async () => {
      d = await startDriverProcess();
    });
    after(() => stopAndClean(d));

    it('restores nothing outside the new volume from a hostile archive (links out of it, then members through them, and ../ names)', async () => {
      const trap = path.join(d.dirs.root, 'trap');
      mkdirSync(trap);
      const src = await createVolume(d.client, 'tree-archive-src');
      const snap = (await d.client.controller.CreateSnapshot({ name: 'tree-archive-snap', source_volume_id: src })).snapshot!.snapshot_id;
      // An archive no volume could produce: each name twice, first as a link out, then as a directory.
      const work = path.join(d.dirs.root, 'craft');
      mkdirSync(path.join(work, 'links'), { recursive: true });
      mkdirSync(path.join(work, 'files', 'esc'), { recursive: true });
      mkdirSync(path.join(work, 'files', 'up'), { recursive: true });
      symlinkSync(trap, path.join(work, 'links', 'esc'));
      symlinkSync('../../../..', path.join(work, 'links', 'up'));
      writeFileSync(path.join(work, 'files', 'esc', 'pwned.txt'), 'pwned\n');
      writeFileSync(path.join(work, 'files', 'up', 'pwned2.txt'), 'pwned\n');
      writeFileSync(path.join(work, 'files', 'dot.txt'), 'pwned\n');
      const tarFile = path.join(work, 'a.tar');
      execFileSync('tar', ['-C', path.join(work, 'links'), '-cf', tarFile, './esc', './up']);
      execFileSync('tar', ['-C', path.join(work, 'files'), '-cf', `${tarFile}.2`, './esc/pwned.txt', './up/pwned2.txt']);
      execFileSync('tar', ['-C', path.join(work, 'files'), '-cPf', `${tarFile}.3`, '--transform=s,^\\./,../../,', './dot.txt']);
      execFileSync('tar', ['-Af', tarFile, `${tarFile}.2`]);
      execFileSync('tar', ['-Af', tarFile, `${tarFile}.3`]);
      execFileSync('sh', ['-c', `gzip -c "${tarFile}" > "${path.join(d.dirs.share, 'snapshots', snap, 'data.tar.gz')}"`]);
      const before = listTree(d.dirs.root, ['share', 'craft']);
      const volumesBefore = readdirSync(path.join(d.dirs.share, 'volumes')).sort();

      const err = await expectCode(
        d.client.controller.CreateVolume({
          ...volumeRequest('tree-archive-restored'),
          volume_content_source: { snapshot: { snapshot_id: snap } },
        }),
        grpc.status.INTERNAL,
      );
      assert.match(err.details, /Not a directory|contains '\.\.'/);
      assert.deepEqual(readdirSync(trap), []);
      assert.deepEqual(listTree(d.dirs.root, ['share', 'craft']), before, 'something was written outside the share');
      assert.deepEqual(readdirSync(path.join(d.dirs.share, 'volumes')).sort(), volumesBefore, 'the failed restore left its volume behind');
    });

    it('archives no mount inside a volume, clones none, and refuses to delete through one (FAILED_PRECONDITION, its files intact)', async function () {
      if (process.getuid?.() !== 0) this.skip();
      const id = await createVolume(d.client, 'tree-mount-inside');
      writeFileSync(path.join(dataOf(d, id), 'own.txt'), 'own\n');
      const inner = path.join(dataOf(d, id), 'mnt');
      mkdirSync(inner);
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tree-containment-test', inner]);
      try {
        writeFileSync(path.join(inner, 'foreign.txt'), 'another filesystem\n');
        const snap = (await d.client.controller.CreateSnapshot({ name: 'tree-mount-snap', source_volume_id: id })).snapshot!.snapshot_id;
        const listing = execFileSync('tar', ['-tzf', path.join(d.dirs.share, 'snapshots', snap, 'data.tar.gz')], { encoding: 'utf8' });
        assert.doesNotMatch(listing, /foreign\.txt/);
        assert.match(listing, /own\.txt/);
        const clone = (
          await d.client.controller.CreateVolume({
            ...volumeRequest('tree-mount-clone'),
            volume_content_source: { volume: { volume_id: id } },
          })
        ).volume!.volume_id;
        assert.deepEqual(readdirSync(dataOf(d, clone)), ['own.txt']);
        await expectCode(d.client.controller.DeleteVolume({ volume_id: id }), grpc.status.FAILED_PRECONDITION);
        assert.equal(readFileSync(path.join(inner, 'foreign.txt'), 'utf8'), 'another filesystem\n');
      } finally {
        execFileSync('umount', [inner]);
      }
      await d.client.controller.DeleteVolume({ volume_id: id });
      assert.equal(existsSync(path.join(d.dirs.share, 'volumes', id)), false);
    });
  });

  describe('on a full share (a 4 MiB tmpfs)', () => {
    let d: DriverProcess | undefined;
    let dirs: ReturnType<typeof driverDirs> | undefined;
    before(async function () {
      if (process.getuid?.() !== 0) this.skip();
      const dd = driverDirs('csi-full-share-');
      dirs = dd;
      mkdirSync(dd.share);
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'csi-full-share', dd.share]);
      d = await startDriverProcess([], dd);
    });
    after(async () => {
      if (d) await stopAndClean(d);
      else if (dirs) await unmountLeftovers(dirs.root);
    });

    it('answers RESOURCE_EXHAUSTED to a snapshot, a clone and a restore that do not fit, and leaves nothing of them', async () => {
      const id = await createVolume(d!.client, 'tree-full-src');
      // Random bytes: gzip cannot shrink them. The volume and one archive fit; a third copy does not.
      writeFileSync(path.join(dataOf(d!, id), 'big.bin'), randomBytes(1_500_000));
      const snap = (await d!.client.controller.CreateSnapshot({ name: 'tree-full-snap-1', source_volume_id: id })).snapshot!.snapshot_id;
      const before = listTree(d!.dirs.share);
      await expectCode(
        d!.client.controller.CreateSnapshot({ name: 'tree-full-snap-2', source_volume_id: id }),
        grpc.status.RESOURCE_EXHAUSTED,
      );
      assert.deepEqual(listTree(d!.dirs.share), before);
      const clone = await expectCode(
        d!.client.controller.CreateVolume({ ...volumeRequest('tree-full-clone'), volume_content_source: { volume: { volume_id: id } } }),
        grpc.status.RESOURCE_EXHAUSTED,
      );
      assert.match(clone.details, /no space/i);
      assert.deepEqual(listTree(d!.dirs.share), before);
      await expectCode(
        d!.client.controller.CreateVolume({
          ...volumeRequest('tree-full-restore'),
          volume_content_source: { snapshot: { snapshot_id: snap } },
        }),
        grpc.status.RESOURCE_EXHAUSTED,
      );
      assert.deepEqual(listTree(d!.dirs.share), before);
    });
  });
});
