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

  it('--help shows the defaults of --driver-name, --mode, --backend and --node-id', () => {
    const help = buildCli('0').helpInformation().replace(/\s+/g, ' ');
    assert.match(help, /--driver-name <name> driver name reported by GetPluginInfo \(default nfs-health\.csi\.dev\)/);
    assert.match(help, /--mode <mode> services to serve; node and all need root or CAP_SYS_ADMIN \(default all\)/);
    assert.match(help, /--backend <kind> storage backend \(default local\)/);
    assert.match(help, /--node-id <id> .*\(default: this machine's host name/);
  });
});
