import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import {
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { FsHelperPool } from '../../../src/isolation/fsHelperPool';
import { IsolatedFsError } from '../../../src/isolation/isolationErrors';
import { mountsUnder, unmountLeftovers } from '../../helpers/cleanup';

async function rejectsWith(p: Promise<unknown>, code: string): Promise<IsolatedFsError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof IsolatedFsError, `expected IsolatedFsError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${code}, but it succeeded`);
}

describe('file helpers: tree copy and removal through pinned handles', () => {
  let pool: FsHelperPool;
  let root: string;
  let outside: string;
  before(() => {
    pool = new FsHelperPool({ maxIdle: 1 });
  });
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'pinned-tree-'));
    outside = path.join(root, 'outside');
    mkdirSync(path.join(outside, 'sub'), { recursive: true });
    writeFileSync(path.join(outside, 'keep.txt'), 'outside\n');
    writeFileSync(path.join(outside, 'sub', 'keep.txt'), 'outside sub\n');
    mkdirSync(path.join(root, 'share', 'src'), { recursive: true });
    mkdirSync(path.join(root, 'share', 'dst'), { recursive: true });
  });
  afterEach(async () => {
    await unmountLeftovers(root);
    if ((await mountsUnder(root)).length === 0) rmSync(root, { recursive: true, force: true });
  });
  after(() => pool.close());
  const share = () => path.join(root, 'share');
  const copy = (extra: object = {}) =>
    pool.run({ op: 'treeCopy', path: path.join(share(), 'src'), root: share(), from: ['src'], to: ['dst'], ...extra }, 20_000);
  const remove = (rel: string[], extra: object = {}) =>
    pool.run({ op: 'treeRemove', path: path.join(share(), ...rel), root: share(), rel, ...extra }, 20_000);
  const outsideIntact = () => {
    assert.equal(readFileSync(path.join(outside, 'keep.txt'), 'utf8'), 'outside\n');
    assert.equal(readFileSync(path.join(outside, 'sub', 'keep.txt'), 'utf8'), 'outside sub\n');
  };

  it('copies directories, file contents, owners, modes and times, and symlinks as symlinks (never followed)', async () => {
    const src = path.join(share(), 'src');
    mkdirSync(path.join(src, 'a', 'b'), { recursive: true });
    writeFileSync(path.join(src, 'a', 'b', 'data.bin'), Buffer.alloc(300_000, 9), { mode: 0o640 });
    chownSync(path.join(src, 'a', 'b', 'data.bin'), 1234, 5678);
    writeFileSync(path.join(src, 'setgid.sh'), '#!/bin/sh\n', { mode: 0o2755 });
    utimesSync(path.join(src, 'a', 'b', 'data.bin'), new Date('2020-01-02T03:04:05Z'), new Date('2020-01-02T03:04:05Z'));
    symlinkSync(outside, path.join(src, 'escape'));
    symlinkSync('a/b', path.join(src, 'inner'));
    const res = await copy();
    const dst = path.join(share(), 'dst');
    assert.deepEqual(readFileSync(path.join(dst, 'a', 'b', 'data.bin')), Buffer.alloc(300_000, 9));
    const st = statSync(path.join(dst, 'a', 'b', 'data.bin'));
    assert.deepEqual([st.mode & 0o7777, st.uid, st.gid, st.mtime.toISOString()], [0o640, 1234, 5678, '2020-01-02T03:04:05.000Z']);
    assert.equal(statSync(path.join(dst, 'setgid.sh')).mode & 0o7777, 0o2755);
    assert.equal(lstatSync(path.join(dst, 'escape')).isSymbolicLink(), true);
    assert.equal(readlinkSync(path.join(dst, 'escape')), outside);
    assert.equal(readlinkSync(path.join(dst, 'inner')), 'a/b');
    assert.equal(existsSync(path.join(dst, 'escape', 'keep.txt')) && lstatSync(path.join(dst, 'escape')).isDirectory(), false);
    assert.deepEqual(res, { copied: 6, skipped: 0 });
    outsideIntact();
  });

  it('leaves out the excluded top-level names, fifos and sockets, and counts what it left out', async () => {
    const src = path.join(share(), 'src');
    mkdirSync(path.join(src, '.csi-health'));
    writeFileSync(path.join(src, '.csi-health', 'probe'), 'x');
    writeFileSync(path.join(src, 'plain.txt'), 'plain\n');
    execFileSync('mkfifo', [path.join(src, 'fifo')]);
    const sock = net.createServer().listen(path.join(src, 'sock'));
    await new Promise((r) => sock.once('listening', r));
    try {
      const res = await copy({ exclude: ['.csi-health'] });
      assert.deepEqual(readdirSync(path.join(share(), 'dst')).sort(), ['plain.txt']);
      assert.deepEqual(res, { copied: 1, skipped: 2 });
    } finally {
      sock.close();
    }
  });

  it('never enters a mount inside the source, and never removes through one (EBUSY, its files intact)', async function () {
    if (process.getuid?.() !== 0) this.skip();
    const inner = path.join(share(), 'src', 'mnt');
    mkdirSync(inner);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'pinned-tree-test', inner]);
    writeFileSync(path.join(inner, 'foreign.txt'), 'on another filesystem\n');
    writeFileSync(path.join(share(), 'src', 'own.txt'), 'own\n');
    const res = await copy();
    assert.deepEqual(readdirSync(path.join(share(), 'dst')), ['own.txt']);
    assert.equal(res.skipped, 1);
    await rejectsWith(remove(['src']), 'EBUSY');
    assert.equal(readFileSync(path.join(inner, 'foreign.txt'), 'utf8'), 'on another filesystem\n');
  });

  it('refuses to remove a tree with a bind mount of the same filesystem below it, even behind a symlinked share path (EBUSY, nothing removed)', async function () {
    if (process.getuid?.() !== 0) this.skip();
    // Same device as the tree, so only the mount table tells it apart; the share is named
    // through a symlink, as a configured root may be.
    const bound = path.join(share(), 'src', 'deep', 'bound');
    mkdirSync(bound, { recursive: true });
    execFileSync('mount', ['--bind', outside, bound]);
    writeFileSync(path.join(share(), 'src', 'own.txt'), 'own\n');
    symlinkSync(share(), path.join(root, 'share-link'));
    await rejectsWith(pool.run({ op: 'treeRemove', path: 'x', root: path.join(root, 'share-link'), rel: ['src'] }, 20_000), 'EBUSY');
    assert.equal(readFileSync(path.join(share(), 'src', 'own.txt'), 'utf8'), 'own\n');
    outsideIntact();
  });

  it('refuses a tree reached through a symlink, and a path component that is not a plain name', async () => {
    symlinkSync(outside, path.join(share(), 'linked'));
    await rejectsWith(pool.run({ op: 'treeCopy', path: 'x', root: share(), from: ['linked'], to: ['dst'] }, 20_000), 'ENOTDIR');
    await rejectsWith(pool.run({ op: 'treeCopy', path: 'x', root: share(), from: ['..', 'outside'], to: ['dst'] }, 20_000), 'EINVAL');
    assert.deepEqual(readdirSync(path.join(share(), 'dst')), []);
    // Removing a symlink named as the tree removes the link, not where it points.
    assert.deepEqual(await remove(['linked']), { removed: 1 });
    assert.equal(existsSync(path.join(share(), 'linked')), false);
    outsideIntact();
  });

  it('copies and removes names that are not valid UTF-8 as they are', async () => {
    const src = Buffer.from(path.join(share(), 'src') + '/');
    const odd = Buffer.from([0x6f, 0x64, 0x64, 0xff, 0xfe]);
    mkdirSync(Buffer.concat([src, odd]));
    writeFileSync(Buffer.concat([src, odd, Buffer.from('/'), odd]), 'odd\n');
    symlinkSync(Buffer.from([0x2e, 0x2e, 0x2f, 0xff]), Buffer.concat([src, Buffer.from('link-'), odd]));
    assert.deepEqual(await copy(), { copied: 3, skipped: 0 });
    const dst = Buffer.from(path.join(share(), 'dst') + '/');
    assert.equal(readFileSync(Buffer.concat([dst, odd, Buffer.from('/'), odd]), 'utf8'), 'odd\n');
    assert.deepEqual(
      readlinkSync(Buffer.concat([dst, Buffer.from('link-'), odd]), { encoding: 'buffer' }),
      Buffer.from([0x2e, 0x2e, 0x2f, 0xff]),
    );
    assert.deepEqual(await remove(['src']), { removed: 4 });
    assert.equal(existsSync(path.join(share(), 'src')), false);
  });

  it('stops a copy past its entry or depth bound (ETREELIMIT)', async () => {
    const src = path.join(share(), 'src');
    for (let i = 0; i < 20; i++) writeFileSync(path.join(src, `f${i}`), '');
    await rejectsWith(copy({ limits: { maxEntries: 10 } }), 'ETREELIMIT');
    rmSync(path.join(share(), 'dst'), { recursive: true });
    mkdirSync(path.join(share(), 'dst'));
    mkdirSync(path.join(src, 'd1', 'd2', 'd3', 'd4'), { recursive: true });
    await rejectsWith(copy({ limits: { maxDepth: 3 } }), 'ETREELIMIT');
  });

  it('removes a tree with symlinks out of it, removing the links only', async () => {
    const src = path.join(share(), 'src');
    mkdirSync(path.join(src, 'a'));
    writeFileSync(path.join(src, 'a', 'f'), 'x');
    symlinkSync(outside, path.join(src, 'escape'));
    symlinkSync(path.join(outside, 'sub'), path.join(src, 'a', 'escape2'));
    const res = await remove(['src']);
    assert.equal(existsSync(src), false);
    assert.equal(res.removed, 5);
    outsideIntact();
    assert.deepEqual(await remove(['src']), { removed: 0 });
    assert.deepEqual(await remove(['no-such-dir', 'src']), { removed: 0 });
  });

  it('removes a tree deeper than the handles it keeps open (deep directories are moved up, then removed)', async () => {
    let p = path.join(share(), 'src');
    for (let i = 0; i < 150; i++) p = path.join(p, 'd');
    mkdirSync(p, { recursive: true });
    writeFileSync(path.join(p, 'bottom.txt'), 'deep');
    symlinkSync(outside, path.join(p, 'escape'));
    const res = await remove(['src']);
    assert.equal(existsSync(path.join(share(), 'src')), false);
    assert.equal(res.removed, 153);
    assert.deepEqual(readdirSync(share()).sort(), ['dst']);
    outsideIntact();
  });
});
