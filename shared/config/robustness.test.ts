import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { buildConfig, type ConfigInputs } from './build-config.ts';
import { SpecShapes } from './shapes.ts';

/** Objects whose spec fields have arbitrary JSON values, names from a small set so they collide. */
const object = (fields: readonly string[]) =>
  fc.record({
    metadata: fc.record({
      name: fc.constantFrom('a', 'b', 'c'),
      namespace: fc.constantFrom('metalbeacon-system', 'x'),
    }),
    spec: fc.oneof(
      fc.constant(undefined),
      fc.dictionary(
        fc.constantFrom(...fields),
        fc.oneof(fc.jsonValue(), fc.array(fc.jsonValue()), fc.array(fc.string())),
      ),
    ),
  });

describe('buildConfig robustness', () => {
  it('never throws on arbitrary field values (a crash is a bug: bad input must become errors)', () => {
    fc.assert(
      fc.property(
        // Every spec field the shape checks know, per kind.
        fc.record({
          pools: fc.array(object(Object.keys(SpecShapes.IPAddressPool)), { maxLength: 3 }),
          l2Advertisements: fc.array(object(Object.keys(SpecShapes.L2Advertisement)), { maxLength: 2 }),
          bgpAdvertisements: fc.array(object(Object.keys(SpecShapes.BGPAdvertisement)), { maxLength: 2 }),
          peers: fc.array(object(Object.keys(SpecShapes.BGPPeer)), { maxLength: 2 }),
          communities: fc.array(object(Object.keys(SpecShapes.Community)), { maxLength: 2 }),
          bfdProfiles: fc.array(object(Object.keys(SpecShapes.BFDProfile)), { maxLength: 2 }),
        }),
        (inputs) => {
          const result = buildConfig(inputs as unknown as ConfigInputs, { namespace: 'metalbeacon-system' });
          if (!result.ok)
            for (const e of result.errors) assert.ok(e.field.length > 0 && e.message.length > 0);
        },
      ),
      { numRuns: 300, seed: 42 },
    );
  });
});
