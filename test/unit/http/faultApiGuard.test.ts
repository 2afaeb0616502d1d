import { strict as assert } from 'node:assert';
import { hostOfHeader, isAllowedFaultApiHost } from '../../../src/http/faultApiGuard';

describe('fault API Host check', () => {
  it('takes the host out of a Host header with or without a port, and refuses malformed ones', () => {
    assert.equal(hostOfHeader('127.0.0.1:9911'), '127.0.0.1');
    assert.equal(hostOfHeader('[::1]:9911'), '[::1]');
    assert.equal(hostOfHeader('LocalHost'), 'localhost');
    for (const bad of ['a b', 'x:1:2', 'host:99999999', '', 'evil/x']) assert.equal(hostOfHeader(bad), undefined, bad);
  });

  it('allows loopback names and addresses whatever the bind address', () => {
    for (const h of ['localhost', '127.0.0.1', '127.1.2.3', '[::1]']) assert.ok(isAllowedFaultApiHost(h, '127.0.0.1'), h);
  });

  it('refuses other names, which is what a DNS-rebinding page sends', () => {
    for (const h of ['evil.example', '127.0.0.1.nip.io', 'localhost.evil.example'])
      assert.equal(isAllowedFaultApiHost(h, '127.0.0.1'), false, h);
    assert.equal(isAllowedFaultApiHost('evil.example', '0.0.0.0'), false);
  });

  it('allows the bind address, and any address literal when bound to a wildcard', () => {
    assert.ok(isAllowedFaultApiHost('10.0.0.5', '10.0.0.5'));
    assert.equal(isAllowedFaultApiHost('10.0.0.6', '10.0.0.5'), false);
    assert.ok(isAllowedFaultApiHost('10.0.0.6', '0.0.0.0'));
    assert.ok(isAllowedFaultApiHost('[fd00::1]', '::'));
  });
});
