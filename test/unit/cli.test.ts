import { strict as assert } from 'node:assert';
import { buildCli, parseCli } from '../../src/cli';

describe('parseCli', () => {
  const withEnv = (value: string | undefined, fn: () => void): void => {
    const old = process.env.ENABLE_FAULT_INJECTION;
    if (value === undefined) delete process.env.ENABLE_FAULT_INJECTION;
    else process.env.ENABLE_FAULT_INJECTION = value;
    try {
      fn();
    } finally {
      if (old === undefined) delete process.env.ENABLE_FAULT_INJECTION;
      else process.env.ENABLE_FAULT_INJECTION = old;
    }
  };

  it('reads ENABLE_FAULT_INJECTION=false as off and true as on', () => {
    withEnv('false', () => assert.equal(parseCli(['node', 'csi-driver'], '0').enableFaultInjection, false));
    withEnv('true', () => assert.equal(parseCli(['node', 'csi-driver'], '0').enableFaultInjection, true));
    withEnv(undefined, () => assert.equal(parseCli(['node', 'csi-driver'], '0').enableFaultInjection, undefined));
  });

  it('refuses any other value of ENABLE_FAULT_INJECTION', () => {
    withEnv('maybe', () => assert.throws(() => parseCli(['node', 'csi-driver'], '0'), /invalid ENABLE_FAULT_INJECTION "maybe"/));
  });

  it('lets the flag win over the environment', () => {
    withEnv('false', () => assert.equal(parseCli(['node', 'csi-driver', '--enable-fault-injection'], '0').enableFaultInjection, true));
  });

  it('reads NFS_ALLOW_OTHER_SERVERS as a strict boolean, off when unset', () => {
    const old = process.env.NFS_ALLOW_OTHER_SERVERS;
    try {
      delete process.env.NFS_ALLOW_OTHER_SERVERS;
      assert.equal(parseCli(['node', 'csi-driver'], '0').nfsAllowOtherServers, undefined);
      assert.equal(parseCli(['node', 'csi-driver', '--nfs-allow-other-servers'], '0').nfsAllowOtherServers, true);
      process.env.NFS_ALLOW_OTHER_SERVERS = 'true';
      assert.equal(parseCli(['node', 'csi-driver'], '0').nfsAllowOtherServers, true);
      process.env.NFS_ALLOW_OTHER_SERVERS = 'off-ish';
      assert.throws(() => parseCli(['node', 'csi-driver'], '0'), /invalid NFS_ALLOW_OTHER_SERVERS "off-ish": true or false/);
    } finally {
      if (old === undefined) delete process.env.NFS_ALLOW_OTHER_SERVERS;
      else process.env.NFS_ALLOW_OTHER_SERVERS = old;
    }
  });

  it('takes --http-max-connections from the flag or HTTP_MAX_CONNECTIONS', () => {
    assert.equal(parseCli(['node', 'csi-driver', '--http-max-connections', '32'], '0').httpMaxConnections, '32');
  });
});

describe('parseCli: ENABLE_ATTACH', () => {
  const withAttachEnv = (value: string | undefined, fn: () => void): void => {
    const old = process.env.ENABLE_ATTACH;
    if (value === undefined) delete process.env.ENABLE_ATTACH;
    else process.env.ENABLE_ATTACH = value;
    try {
      fn();
    } finally {
      if (old === undefined) delete process.env.ENABLE_ATTACH;
      else process.env.ENABLE_ATTACH = old;
    }
  };

  it('is off unless the flag or ENABLE_ATTACH=true says so', () => {
    withAttachEnv(undefined, () => assert.equal(parseCli(['node', 'csi-driver'], '0').enableAttach, undefined));
    withAttachEnv('false', () => assert.equal(parseCli(['node', 'csi-driver'], '0').enableAttach, false));
    withAttachEnv('1', () => assert.equal(parseCli(['node', 'csi-driver'], '0').enableAttach, true));
    withAttachEnv(undefined, () => assert.equal(parseCli(['node', 'csi-driver', '--enable-attach'], '0').enableAttach, true));
  });

  it('refuses any other value of ENABLE_ATTACH', () => {
    withAttachEnv('sometimes', () => assert.throws(() => parseCli(['node', 'csi-driver'], '0'), /invalid ENABLE_ATTACH "sometimes"/));
  });
});

describe('parseCli: help', () => {
  it('--help shows the defaults of --driver-name, --mode, --backend and --node-id', () => {
    const help = buildCli('0').helpInformation().replace(/\s+/g, ' ');
    assert.match(help, /--driver-name <name> driver name reported by GetPluginInfo \(default nfs-health\.csi\.dev\)/);
    assert.match(help, /--mode <mode> services to serve; node and all need root or CAP_SYS_ADMIN \(default all\)/);
    assert.match(help, /--backend <kind> storage backend \(default local\)/);
    assert.match(help, /--node-id <id> .*\(default: this machine's host name/);
  });
});
