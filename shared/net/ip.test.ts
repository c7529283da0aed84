import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  formatIp,
  formatRange,
  isLoopbackIp,
  parseCidr,
  parseIp,
  parseRangeOrCidr,
  rangeSize,
} from './ip.ts';

describe('ip math', () => {
  it('counts a /64 exactly, beyond 64-bit integers', () => {
    const r = parseCidr('2001:db8::/64');
    assert.ok(r.ok);
    assert.equal(rangeSize(r.value), 18446744073709551616n);
  });

  it('counts an inclusive range exactly', () => {
    const r = parseRangeOrCidr('198.51.100.10-198.51.100.20');
    assert.ok(r.ok);
    assert.equal(rangeSize(r.value), 11n);
  });

  it('rejects a range that starts after it ends, naming it', () => {
    const r = parseRangeOrCidr('198.51.100.20-198.51.100.10');
    assert.deepEqual(r, { ok: false, reason: 'range "198.51.100.20-198.51.100.10" starts after it ends' });
  });

  it('rejects a mixed-family range and bad prefix lengths', () => {
    assert.equal(parseRangeOrCidr('198.51.100.1-2001:db8::1').ok, false);
    assert.equal(parseRangeOrCidr('198.51.100.0/33').ok, false);
    assert.equal(parseRangeOrCidr('2001:db8::/129').ok, false);
    assert.equal(parseRangeOrCidr('198.51.100.0').ok, false);
    assert.equal(parseRangeOrCidr('banana/24').ok, false);
  });

  it('masks host bits of a CIDR', () => {
    const r = parseCidr('198.51.100.77/24');
    assert.ok(r.ok);
    assert.equal(formatRange(r.value), '198.51.100.0/24');
  });

  it('formats IPv6 canonically and round-trips', () => {
    const ip = parseIp('2001:0DB8:0000::0001');
    assert.ok(ip);
    assert.equal(formatIp(ip), '2001:db8::1');
    assert.equal(parseIp('198.51.100.1/32'), undefined);
    assert.equal(formatRange({ family: 'IPv4', first: 1n, last: 3n }), '0.0.0.1-0.0.0.3');
  });

  it('tells loopback addresses from the rest, the unspecified ones included', () => {
    for (const ip of ['127.0.0.1', '127.255.0.9', '::1', '::ffff:127.0.0.1'])
      assert.equal(isLoopbackIp(ip), true, ip);
    for (const ip of [
      '0.0.0.0',
      '::',
      '192.0.2.1',
      '128.0.0.1',
      '::2',
      '::ffff:192.0.2.1',
      'localhost',
      '',
    ]) {
      assert.equal(isLoopbackIp(ip), false, ip);
    }
  });
});
