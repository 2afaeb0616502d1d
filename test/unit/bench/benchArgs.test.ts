import { strict as assert } from 'node:assert';
import { parseBenchArgs, wants } from '../../../bench/benchArgs';

describe('bench options', () => {
  it('defaults the outage section to 150 of 200 volumes, both variants, 5s/2s and 30s/5s, 8 at a time', () => {
    const a = parseBenchArgs([], {});
    assert.deepEqual(a.outage, {
      n: 200,
      h: 150,
      variants: ['per-volume', 'one-server'],
      settings: [
        { intervalMs: 5000, timeoutMs: 2000 },
        { intervalMs: 30_000, timeoutMs: 5000 },
      ],
      parallel: 8,
    });
    assert.equal(wants(a, 'outage'), true);
  });

  it('takes the outage options and runs only the sections named', () => {
    const a = parseBenchArgs(
      [
        '--only',
        'outage',
        '--outage-n',
        '40',
        '--outage-h',
        '24',
        '--outage-variant',
        'one-server',
        '--outage-settings',
        '1s/500ms',
        '--outage-parallel',
        '4',
      ],
      {},
    );
    assert.deepEqual(a.outage, { n: 40, h: 24, variants: ['one-server'], settings: [{ intervalMs: 1000, timeoutMs: 500 }], parallel: 4 });
    assert.equal(wants(a, 'outage'), true);
    assert.equal(wants(a, 'rpc'), false);
  });

  it('rejects bad outage options with a message naming them', () => {
    assert.throws(() => parseBenchArgs(['--outage-h', '200'], {}), /--outage-h \(200\) must be below --outage-n \(200\)/);
    assert.throws(() => parseBenchArgs(['--outage-n', '0'], {}), /--outage-n needs a positive integer/);
    assert.throws(() => parseBenchArgs(['--outage-variant', 'nfs'], {}), /unknown outage variant nfs/);
    assert.throws(() => parseBenchArgs(['--outage-settings', '5s'], {}), /bad outage setting 5s/);
    assert.throws(() => parseBenchArgs(['--outage-settings', '5m/2s'], {}), /bad duration 5m/);
    assert.throws(() => parseBenchArgs(['--outage-n'], {}), /--outage-n needs a value/);
    assert.throws(() => parseBenchArgs(['--only', 'nope'], {}), /unknown section nope/);
  });
});
