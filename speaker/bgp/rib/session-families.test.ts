import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { refreshFamily, sessionFamilies } from './session-families.ts';

const V4 = { afi: 1, safi: 1 };
const V6 = { afi: 2, safi: 1 };
const BOTH = { IPv4: true, IPv6: true };

describe('sessionFamilies: End-of-RIB for negotiated families only', () => {
  const rows: [string, { afi: number; safi: number }[], Record<'IPv4' | 'IPv6', boolean>, object][] = [
    ['IPv6-only session', [V6], BOTH, { announce: ['IPv6'], endOfRib: ['IPv6'], withoutNextHop: [] }],
    ['IPv4-only session', [V4], BOTH, { announce: ['IPv4'], endOfRib: ['IPv4'], withoutNextHop: [] }],
    ['both', [V4, V6], BOTH, { announce: ['IPv4', 'IPv6'], endOfRib: ['IPv4', 'IPv6'], withoutNextHop: [] }],
    [
      'IPv6 negotiated, no IPv6 next hop: End-of-RIB still, no routes',
      [V4, V6],
      { IPv4: true, IPv6: false },
      { announce: ['IPv4'], endOfRib: ['IPv4', 'IPv6'], withoutNextHop: ['IPv6'] },
    ],
    [
      'multicast SAFI or unknown AFI: nothing',
      [{ afi: 1, safi: 2 }, { afi: 25, safi: 65 }, V6],
      BOTH,
      { announce: ['IPv6'], endOfRib: ['IPv6'], withoutNextHop: [] },
    ],
    ['nothing negotiated', [], BOTH, { announce: [], endOfRib: [], withoutNextHop: [] }],
  ];
  for (const [name, negotiated, nextHop, expected] of rows) {
    it(name, () => assert.deepStrictEqual(sessionFamilies(negotiated, nextHop), expected));
  }
});

describe('refreshFamily (RFC 2918 §4, RFC 7313 §5)', () => {
  it('answers a plain request for a negotiated family only', () => {
    assert.equal(refreshFamily({ ...V6, subtype: 0 }, [V4, V6]), 'IPv6');
    assert.equal(refreshFamily({ ...V6, subtype: 0 }, [V4]), undefined, 'not negotiated: ignored');
    assert.equal(refreshFamily({ afi: 1, safi: 2, subtype: 0 }, [V4]), undefined, 'other SAFI');
    assert.equal(refreshFamily({ ...V4, subtype: 1 }, [V4]), undefined, 'BoRR, never offered');
    assert.equal(refreshFamily({ ...V4, subtype: 255 }, [V4]), undefined);
  });
});
