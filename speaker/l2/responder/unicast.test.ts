import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isUnicastIpv4Sender, isUnicastMac, isUnicastOrUnspecifiedIpv6 } from './unicast.ts';

test('unicast MACs: the I/G bit and the all-zero address', () => {
  const table: [string, boolean][] = [
    ['02:00:00:00:00:0a', true],
    ['00:1b:21:aa:bb:cc', true],
    ['ff:ff:ff:ff:ff:ff', false],
    ['01:00:5e:00:00:fb', false],
    ['33:33:ff:00:00:07', false],
    ['03:00:00:00:00:00', false],
    ['00:00:00:00:00:00', false],
  ];
  for (const [mac, unicast] of table) assert.equal(isUnicastMac(mac), unicast, mac);
});

test('IPv4 ARP senders: multicast, limited broadcast and loopback refused; the probe address allowed', () => {
  const table: [string, boolean][] = [
    ['192.0.2.10', true],
    ['0.0.0.0', true],
    ['223.255.255.255', true],
    ['224.0.0.1', false],
    ['239.1.2.3', false],
    ['255.255.255.255', false],
    ['127.0.0.1', false],
  ];
  for (const [ip, ok] of table) assert.equal(isUnicastIpv4Sender(ip), ok, ip);
});

test('IPv6 NS sources: multicast (ff00::/8) refused, unspecified and unicast allowed', () => {
  const table: [string, boolean][] = [
    ['::', true],
    ['fe80::1', true],
    ['2001:db8::1', true],
    ['ff::1', true],
    ['ff02::1', false],
    ['ff05::1:3', false],
    ['fff0::1', false],
  ];
  for (const [ip, ok] of table) assert.equal(isUnicastOrUnspecifiedIpv6(ip), ok, ip);
});
