import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { buildConfig, type ConfigInputs } from './build-config.ts';

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
        fc.record({
          pools: fc.array(object(['addresses', 'autoAssign', 'avoidBuggyIPs', 'serviceAllocation']), {
            maxLength: 3,
          }),
          l2Advertisements: fc.array(
            object([
              'ipAddressPools',
              'ipAddressPoolSelectors',
              'nodeSelectors',
              'serviceSelectors',
              'interfaces',
            ]),
            { maxLength: 2 },
          ),
          bgpAdvertisements: fc.array(
            object([
              'aggregationLength',
              'aggregationLengthV6',
              'localPref',
              'communities',
              'ipAddressPools',
              'peers',
              'nodeSelectors',
            ]),
            { maxLength: 2 },
          ),
          peers: fc.array(
            object([
              'myASN',
              'peerASN',
              'peerAddress',
              'peerPort',
              'sourceAddress',
              'routerID',
              'holdTime',
              'keepaliveTime',
              'connectTime',
              'password',
              'passwordSecret',
              'bfdProfile',
              'nodeSelectors',
              'ebgpMultiHop',
            ]),
            { maxLength: 2 },
          ),
          communities: fc.array(object(['communities']), { maxLength: 2 }),
          bfdProfiles: fc.array(
            object(['receiveInterval', 'transmitInterval', 'detectMultiplier', 'echoMode', 'minimumTtl']),
            { maxLength: 2 },
          ),
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
