import { strict as assert } from 'node:assert';
import {
  findMount,
  findMountInText,
  mountIdsOf,
  mountPointsOf,
  parseMountInfo,
  readMountInfoText,
  readMountTable,
  reusingMountTableReader,
} from '../../../src/mount/mountTable';

const sample = [
  '22 1 253:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,errors=remount-ro',
  '36 22 253:0 /tmp/csi-x/share/volumes/pvc-1/data /tmp/csi-x/kubelet/staging/vol rw,relatime shared:1 - ext4 /dev/vda rw',
  '37 22 253:0 /tmp/csi-x/share/volumes/pvc-1/data /tmp/csi-x/kubelet/pods/p1/mount ro,relatime shared:1 master:3 - ext4 /dev/vda rw',
  '40 22 0:40 / /mnt/with\\040space rw,nosuid - nfs4 server:/export\\040dir rw,vers=4.1,addr=10.0.0.1',
  '41 22 0:41 / /mnt/tab\\011and\\012newline rw - tmpfs tmpfs rw',
  '42 22 0:42 /back\\134slash /mnt/back\\134slash rw - tmpfs tmpfs rw',
  '',
].join('\n');

describe('parseMountInfo', () => {
  const table = parseMountInfo(sample);

  it('reads every well-formed line with its fields', () => {
    assert.equal(table.length, 6);
    const root = table[0]!;
    assert.deepEqual(root, {
      mountId: 22,
      parentId: 1,
      device: '253:0',
      root: '/',
      mountPoint: '/',
      options: ['rw', 'relatime'],
      fsType: 'ext4',
      source: '/dev/vda',
      superOptions: ['rw', 'errors=remount-ro'],
    });
  });

  it('keeps the mounted sub-directory of a bind mount in root', () => {
    assert.equal(table[1]!.root, '/tmp/csi-x/share/volumes/pvc-1/data');
    assert.equal(table[1]!.mountPoint, '/tmp/csi-x/kubelet/staging/vol');
  });

  it('skips any number of optional fields before the separator', () => {
    const e = table[2]!;
    assert.deepEqual(e.options, ['ro', 'relatime']);
    assert.equal(e.fsType, 'ext4');
    assert.equal(e.source, '/dev/vda');
  });

  it('decodes the octal escapes of space, tab, newline and backslash', () => {
    assert.equal(table[3]!.mountPoint, '/mnt/with space');
    assert.equal(table[3]!.source, 'server:/export dir');
    assert.equal(table[4]!.mountPoint, '/mnt/tab\tand\nnewline');
    assert.equal(table[5]!.mountPoint, '/mnt/back\\slash');
    assert.equal(table[5]!.root, '/back\\slash');
  });

  it('reads NFS super options', () => {
    assert.deepEqual(table[3]!.superOptions, ['rw', 'vers=4.1', 'addr=10.0.0.1']);
    assert.equal(table[3]!.fsType, 'nfs4');
  });

  it('skips lines without the separator or with too few fields', () => {
    assert.deepEqual(parseMountInfo('garbage\n1 2 3 - ext4 x rw\n\n'), []);
  });
});

describe('findMount', () => {
  it('returns the top-most mount at a path (the last listed)', () => {
    const stacked = parseMountInfo(['50 22 0:1 / /mnt/x rw - tmpfs a rw', '51 50 0:2 / /mnt/x ro - tmpfs b rw'].join('\n'));
    assert.equal(findMount(stacked, '/mnt/x')?.source, 'b');
  });

  it('matches the exact path only', () => {
    const table = parseMountInfo(sample);
    assert.equal(findMount(table, '/tmp/csi-x/kubelet'), undefined);
    assert.equal(findMount(table, '/tmp/csi-x/kubelet/staging/vol/'), undefined);
    assert.ok(findMount(table, '/tmp/csi-x/kubelet/staging/vol'));
  });
});

describe('findMountInText: one path looked up without parsing the table', () => {
  it('finds what findMount finds in the parsed table, for every mount point and for paths that are none', () => {
    const table = parseMountInfo(sample);
    const paths = [...table.map((e) => e.mountPoint), '/tmp/csi-x/kubelet', '/tmp/csi-x/kubelet/staging/vol/', '/mnt/with', '/nowhere'];
    for (const p of paths) assert.deepEqual(findMountInText(sample, p), findMount(table, p), p);
  });

  it('returns the top-most of stacked mounts', () => {
    const text = ['50 22 0:1 / /mnt/x rw - tmpfs a rw', '51 50 0:2 / /mnt/x ro - tmpfs b rw'].join('\n');
    assert.equal(findMountInText(text, '/mnt/x')?.source, 'b');
  });

  it('does not take a bind mount whose mounted directory has the same name for a mount at that path', () => {
    // The path stands in the root field of line 36 only: nothing is mounted at it.
    assert.equal(findMountInText(sample, '/tmp/csi-x/share/volumes/pvc-1/data'), undefined);
    const text = '60 22 253:0 /mnt/y /mnt/z rw - ext4 /dev/vda rw\n61 22 253:0 / /mnt/y rw - ext4 /dev/vda rw';
    assert.equal(findMountInText(text, '/mnt/y')?.mountId, 61);
    assert.equal(findMountInText(text, '/mnt/z')?.root, '/mnt/y');
  });

  it('finds paths with escaped characters and a last line without a newline', () => {
    assert.equal(findMountInText(sample, '/mnt/with space')?.source, 'server:/export dir');
    assert.equal(findMountInText(sample, '/mnt/back\\slash')?.mountId, 42);
    assert.equal(findMountInText('7 1 0:1 / /last rw - tmpfs t rw', '/last')?.mountId, 7);
  });

  it('agrees with the parsed real table of this process', async () => {
    const text = await readMountInfoText();
    const table = parseMountInfo(text);
    for (const e of table) assert.deepEqual(findMountInText(text, e.mountPoint), findMount(table, e.mountPoint), e.mountPoint);
    assert.deepEqual(
      mountPointsOf(text),
      table.map((e) => e.mountPoint),
    );
  });
});

describe('mountPointsOf', () => {
  it('lists the unescaped mount point of every line, skipping lines too short to have one', () => {
    assert.deepEqual(
      mountPointsOf(sample + 'garbage\n1 2 3\n'),
      parseMountInfo(sample).map((e) => e.mountPoint),
    );
  });
});

describe('mountIdsOf: the two fields a probe round needs', () => {
  const fromParse = (text: string): Map<string, number> => new Map(parseMountInfo(text).map((e) => [e.mountPoint, e.mountId]));

  it('maps every mount point to its id, unescaped, skipping lines too short to have one', () => {
    assert.deepEqual(mountIdsOf(sample + 'garbage\n1 2 3\nx 1 0:1 / /bad rw - tmpfs t rw\n'), fromParse(sample));
    assert.equal(mountIdsOf(sample).get('/mnt/with space'), 40);
  });

  it('keeps the top-most of stacked mounts, and reads a last line without a newline', () => {
    assert.deepEqual([...mountIdsOf('50 22 0:1 / /mnt/x rw - tmpfs a rw\n51 50 0:2 / /mnt/x ro - tmpfs b rw')], [['/mnt/x', 51]]);
  });

  it('agrees with the full parse of the real table of this process', async () => {
    const text = await readMountInfoText();
    assert.deepEqual(mountIdsOf(text), fromParse(text));
  });
});

describe('readMountTable', () => {
  it("reads this process's real mount table, which always has the root", async () => {
    const table = await readMountTable();
    assert.ok(findMount(table, '/'));
  });
});

describe('reusingMountTableReader', () => {
  it('parses again only when the text changed, and gives the same entries while it has not', async () => {
    let text = sample;
    let reads = 0;
    const read = reusingMountTableReader(async () => {
      reads++;
      return text;
    });
    const first = await read();
    const second = await read();
    assert.equal(reads, 2, 'the text is read every time');
    assert.equal(second, first, 'the same entries, not parsed again');
    assert.deepEqual(first, parseMountInfo(sample));
    text = `${sample}43 22 0:43 / /mnt/new rw - tmpfs tmpfs rw\n`;
    const third = await read();
    assert.notEqual(third, first);
    assert.equal(third.length, first.length + 1);
    assert.equal(third.at(-1)?.mountPoint, '/mnt/new', 'a new mount is seen at the next read');
    text = sample;
    assert.deepEqual(await read(), first, 'and one gone, too');
  });
});
