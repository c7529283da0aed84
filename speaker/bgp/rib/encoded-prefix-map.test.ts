import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePrefix } from '../codec/index.ts';
import { EncodedPrefixMap, mapRouteValues } from './encoded-prefix-map.ts';
import { addPrefixList } from './prefix-list.ts';

const hex = (bytes: Uint8Array | undefined) => (bytes ? Buffer.from(bytes).toString('hex') : undefined);
const nlriOf = (...prefixes: string[]) => prefixes.map((p) => hex(parsePrefix(p).nlri)).join('');

function filled(): EncodedPrefixMap<number> {
  const map = new EncodedPrefixMap<number>();
  assert.equal(addPrefixList('2001:db8::/64\n198.51.100.0/24, ::ffff:192.0.2.0/120\n', map, 1), undefined);
  return map;
}

describe('EncodedPrefixMap', () => {
  it('holds the NLRI of its keys in order, from the fast path and the general one', () => {
    const map = filled();
    assert.deepStrictEqual([...map.keys()], ['2001:db8::/64', '198.51.100.0/24', '::ffff:192.0.2.0/120']);
    assert.equal(hex(map.nlri), nlriOf('2001:db8::/64', '198.51.100.0/24', '::ffff:192.0.2.0/120'));
  });

  it('a prefix added again keeps its place and its one encoding; a new value keeps them too', () => {
    const map = filled();
    assert.equal(addPrefixList('198.51.100.0/24\n', map, 2), undefined);
    map.set('2001:db8::/64', 3);
    assert.deepStrictEqual(
      [...map],
      [
        ['2001:db8::/64', 3],
        ['198.51.100.0/24', 2],
        ['::ffff:192.0.2.0/120', 1],
      ],
    );
    assert.equal(hex(map.nlri), nlriOf('2001:db8::/64', '198.51.100.0/24', '::ffff:192.0.2.0/120'));
  });

  it('grows past its first buffer', () => {
    const map = new EncodedPrefixMap<number>();
    const prefixes = Array.from({ length: 500 }, (_, i) => `2001:db8:${i.toString(16)}::/48`);
    assert.equal(addPrefixList(prefixes.join('\n'), map, 1), undefined);
    assert.equal(hex(map.nlri), nlriOf(...prefixes));
  });

  for (const [change, apply] of [
    ['a new prefix by set', (m: EncodedPrefixMap<number>) => m.set('203.0.113.0/24', 1)],
    ['delete', (m: EncodedPrefixMap<number>) => m.delete('198.51.100.0/24')],
    ['clear', (m: EncodedPrefixMap<number>) => m.clear()],
  ] as const) {
    it(`drops the encodings for good after ${change}`, () => {
      const map = filled();
      apply(map);
      assert.equal(map.nlri, undefined);
      assert.equal(addPrefixList('203.0.113.128/25\n', map, 1), undefined);
      assert.equal(map.nlri, undefined, 'not back after a later add');
      assert.ok(map.has('203.0.113.128/25'));
    });
  }

  it('a delete of a prefix it does not hold keeps the encodings', () => {
    const map = filled();
    assert.equal(map.delete('203.0.113.0/24'), false);
    assert.ok(map.nlri);
  });
});

describe('mapRouteValues', () => {
  const a = { tag: 'a' };
  const b = { tag: 'b' };

  it('replaces each distinct value once, prefixes sharing a value share the replacement', () => {
    const desired = new Map([
      ['2001:db8::/64', a],
      ['198.51.100.0/24', b],
      ['2001:db8:1::/64', a],
    ]);
    const seen: string[] = [];
    const out = mapRouteValues(desired, (v) => {
      seen.push(v.tag);
      return { tag: `${v.tag}!` };
    });
    assert.deepStrictEqual(seen, ['a', 'b']);
    assert.deepStrictEqual([...out.keys()], [...desired.keys()]);
    assert.equal(out.get('2001:db8::/64'), out.get('2001:db8:1::/64'));
    assert.deepStrictEqual(out.get('198.51.100.0/24'), { tag: 'b!' });
    assert.ok(!(out instanceof EncodedPrefixMap));
  });

  it('an EncodedPrefixMap keeps its prefixes, order and encodings, in a copy of its own', () => {
    const source = filled();
    const out = mapRouteValues(source, (v) => v + 10) as EncodedPrefixMap<number>;
    assert.ok(out instanceof EncodedPrefixMap);
    assert.deepStrictEqual(
      [...out],
      [...source].map(([p, v]) => [p, v + 10]),
    );
    assert.equal(hex(out.nlri), hex(source.nlri));
    out.delete('198.51.100.0/24');
    assert.equal(out.nlri, undefined);
    assert.equal(hex(source.nlri), nlriOf('2001:db8::/64', '198.51.100.0/24', '::ffff:192.0.2.0/120'));
  });

  it('encodings dropped in the source stay dropped', () => {
    const source = filled();
    source.set('203.0.113.0/24', 1);
    assert.equal((mapRouteValues(source, (v) => v) as EncodedPrefixMap<number>).nlri, undefined);
  });
});
