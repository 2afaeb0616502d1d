import { strict as assert } from 'node:assert';
import { MountPrivilegesError, parseProcStatus, readProcStatus, requireMountPrivileges } from '../../../src/node/mountPrivileges';

const status = (uid: number, capEff: string): string =>
  `Name:\tnode\nUmask:\t0022\nState:\tS (sleeping)\nUid:\t${uid}\t${uid}\t${uid}\t${uid}\nGid:\t0\t0\t0\t0\nCapInh:\t0000000000000000\nCapPrm:\t${capEff}\nCapEff:\t${capEff}\n`;

describe('requireMountPrivileges', () => {
  it('lets root with the full capability set start', () => {
    assert.doesNotThrow(() => requireMountPrivileges(parseProcStatus(status(0, '000001ffffffffff'))));
  });

  it('lets a non-root process with only CAP_SYS_ADMIN start', () => {
    assert.doesNotThrow(() => requireMountPrivileges(parseProcStatus(status(1000, (1n << 21n).toString(16).padStart(16, '0')))));
  });

  it('refuses a non-root process without CAP_SYS_ADMIN, saying what is needed and the way out', () => {
    assert.throws(
      () => requireMountPrivileges(parseProcStatus(status(1000, '0000000000000000'))),
      (err: unknown) =>
        err instanceof MountPrivilegesError &&
        /node mode mounts volumes and needs root or CAP_SYS_ADMIN, but this process runs as uid 1000 without it/.test(err.message) &&
        /--mode controller/.test(err.message),
    );
  });

  it('refuses root whose CAP_SYS_ADMIN was dropped (a container without privileges)', () => {
    const allButSysAdmin = ((1n << 41n) - 1n) & ~(1n << 21n);
    assert.throws(() => requireMountPrivileges(parseProcStatus(status(0, allButSysAdmin.toString(16)))), MountPrivilegesError);
  });

  it('without capability information, takes uid 0 as enough and any other uid as not', () => {
    assert.doesNotThrow(() => requireMountPrivileges({ uid: 0, capEff: undefined }));
    assert.throws(() => requireMountPrivileges({ uid: 33, capEff: undefined }), /uid 33/);
  });

  it('reads the real /proc/self/status of this process', async () => {
    const st = await readProcStatus();
    assert.equal(st.uid, process.getuid?.());
    assert.equal(typeof st.capEff, 'bigint');
  });
});
