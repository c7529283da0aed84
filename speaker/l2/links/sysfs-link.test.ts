import assert from 'node:assert/strict';
import { test } from 'node:test';
import { linkFromSysfs, type SysfsLinkFiles } from './sysfs-link.ts';

const files = (overrides: Partial<SysfsLinkFiles> = {}): SysfsLinkFiles => ({
  ifindex: '2',
  address: '02:AA:00:00:00:01',
  type: '1',
  flags: '0x1003',
  operstate: 'up',
  hasMaster: false,
  ...overrides,
});

test('flags, operstate, MAC case and master become the link facts the selection reads', () => {
  assert.deepEqual(linkFromSysfs('eth0', files()), {
    name: 'eth0',
    ifindex: 2,
    mac: '02:aa:00:00:00:01',
    type: 1,
    up: true,
    running: true,
    loopback: false,
    noArp: false,
    enslaved: false,
  });
  const ipvs = linkFromSysfs('kube-ipvs0', files({ flags: '0x82', operstate: 'down' }));
  assert.deepEqual([ipvs?.up, ipvs?.running, ipvs?.noArp], [false, false, true]);
  const lo = linkFromSysfs('lo', files({ flags: '0x9', type: '772', operstate: 'unknown' }));
  assert.deepEqual([lo?.loopback, lo?.running, lo?.type], [true, true, 772]);
  assert.equal(linkFromSysfs('enp1', files({ hasMaster: true }))?.enslaved, true);
});

test('an interface that vanished while being read (no ifindex or flags) is no link', () => {
  assert.equal(linkFromSysfs('gone0', files({ ifindex: undefined })), undefined);
  assert.equal(linkFromSysfs('gone1', files({ flags: undefined })), undefined);
  const bare = linkFromSysfs('odd0', files({ address: undefined, type: undefined, operstate: undefined }));
  assert.deepEqual([bare?.mac, bare?.type, bare?.running], ['', 0, false]);
});
