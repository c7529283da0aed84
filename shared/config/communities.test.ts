import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseCommunity } from './communities.ts';
import { community, errorAt, expectConfig, expectError } from './test-helpers.ts';

const communityAt = errorAt('Community');

describe('Community validation', () => {
  it('rejects an invalid alias value', () => {
    expectError(
      { communities: [community('c', { communities: [{ name: 'x', value: '65536:1' }] })] },
      communityAt('c', 'spec.communities[0].value', /"65536:1" is not a standard community/),
    );
  });

  it('rejects an alias defined twice across objects, naming the first definition', () => {
    expectError(
      {
        communities: [
          community('a', { communities: [{ name: 'x', value: '1:1' }] }),
          community('b', {
            communities: [
              { name: 'y', value: '1:2' },
              { name: 'x', value: '1:3' },
            ],
          }),
        ],
      },
      communityAt(
        'b',
        'spec.communities[1].name',
        /duplicate community alias "x": already defined by Community metalbeacon-system\/a spec.communities\[0\]/,
      ),
    );
  });

  it('rejects an alias name containing a colon', () => {
    expectError(
      { communities: [community('c', { communities: [{ name: 'a:b', value: '1:1' }] })] },
      communityAt('c', 'spec.communities[0].name', /without ':'/),
    );
  });

  it('maps aliases to values', () => {
    const config = expectConfig({
      communities: [community('c', { communities: [{ name: 'x', value: '64512:7' }] })],
    });
    assert.deepEqual(config.communities.x, { kind: 'standard', value: 64512 * 65536 + 7, text: '64512:7' });
  });
});

describe('parseCommunity', () => {
  it('round-trips every standard community through its canonical text', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }), (high, low) => {
        const parsed = parseCommunity(`${high}:${low}`);
        assert.ok(parsed.ok);
        assert.equal(parsed.value.kind, 'standard');
        if (parsed.value.kind === 'standard') assert.equal(parsed.value.value, high * 65536 + low);
        assert.equal(parsed.value.text, `${high}:${low}`);
      }),
    );
  });

  it('accepts the full 32-bit range of large community parts and nothing beyond', () => {
    assert.ok(parseCommunity('large:4294967295:0:4294967295').ok);
    assert.equal(parseCommunity('large:4294967296:0:0').ok, false);
    assert.equal(parseCommunity('large:-1:0:0').ok, false);
    assert.equal(parseCommunity('1:2:3').ok, false);
    assert.equal(parseCommunity(':1').ok, false);
  });
});
