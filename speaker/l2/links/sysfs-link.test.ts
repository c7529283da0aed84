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
  const eth0 = linkFromSysfs('eth0', files());
  assert.equal(Object.keys(eth0 ?? {}).length, 9, 'every LinkInfo field, none more');
  assert.deepEqual([eth0?.name, eth0?.ifindex, eth0?.mac, eth0?.type], ['eth0', 2, '02:aa:00:00:00:01', 1]);
  assert.deepEqual(
    [eth0?.up, eth0?.running, eth0?.loopback, eth0?.noArp, eth0?.enslaved],
    [true, true, false, false, false],
  );
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
