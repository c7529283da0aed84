import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bfdProfileDeletionErrors } from './bfd-profiles.ts';
import { nextConfig } from './next-config.ts';
import { bfd, build, expectConfig, expectError, peer } from './test-helpers.ts';
import { formatConfigError } from './types.ts';

describe('BFDProfile validation', () => {
  for (const [field, bad] of [
    ['receiveInterval', 5],
    ['transmitInterval', 60001],
    ['detectMultiplier', 1],
    ['echoInterval', 9],
    ['minimumTtl', 255],
  ] as const) {
    it(`rejects ${field} ${bad} out of range`, () => {
      expectError(
        { bfdProfiles: [bfd('p', { [field]: bad })] },
        {
          kind: 'BFDProfile',
          name: 'p',
          field: `spec.${field}`,
          message: new RegExp(`${bad} is out of range: expected a whole number from`),
        },
      );
    });
  }

  it('refuses echoMode: true, naming the profile and the field', () => {
    const error = expectError(
      { bfdProfiles: [bfd('echo', { echoMode: true, echoInterval: 50 })] },
      { kind: 'BFDProfile', name: 'echo', field: 'spec.echoMode', message: /echo mode is not supported/ },
    );
    assert.equal(
      formatConfigError(error),
      'BFDProfile metalbeacon-system/echo spec.echoMode: echo mode is not supported: BFD runs in asynchronous mode (RFC 5880) without echo; remove echoMode or set it to false',
    );
    assert.equal(expectConfig({ bfdProfiles: [bfd('p', { echoMode: false })] }).bfdProfiles.length, 1);
  });

  it('keeps the last good configuration when a profile turns on echo mode', () => {
    const good = expectConfig({ bfdProfiles: [bfd('p', { receiveInterval: 100 })] });
    const next = nextConfig(
      good,
      build({ bfdProfiles: [bfd('p', { receiveInterval: 100, echoMode: true })] }),
    );
    assert.equal(next.config, good);
    assert.equal(next.stale, true);
    assert.equal(next.transientOnly, false);
    assert.deepEqual(
      next.errors.map((e) => `${e.kind} ${e.name} ${e.field}`),
      ['BFDProfile p spec.echoMode'],
    );
  });

  it('fills in the documented defaults', () => {
    const config = expectConfig({ bfdProfiles: [bfd('p', { receiveInterval: 100 })] });
    assert.deepEqual(config.bfdProfiles[0], {
      name: 'p',
      receiveIntervalMs: 100,
      transmitIntervalMs: 300,
      detectMultiplier: 3,
      echoIntervalMs: 50,
      passiveMode: false,
      minimumTtl: 254,
    });
  });
});

describe('bfdProfileDeletionErrors', () => {
  const ref = { kind: 'BFDProfile', namespace: 'metalbeacon-system', name: 'fast' };

  it('refuses to delete a profile a peer still references, naming the profile and the peer', () => {
    const errors = bfdProfileDeletionErrors(ref, [
      peer('r1', { bfdProfile: 'fast' }),
      peer('r2', { bfdProfile: 'slow' }),
      peer('r3', { bfdProfile: 'fast' }),
    ]);
    assert.deepEqual(errors.map(formatConfigError), [
      'BFDProfile metalbeacon-system/fast metadata.name: still used by BGPPeer metalbeacon-system/r1 (spec.bfdProfile); remove the reference before deleting the profile',
      'BFDProfile metalbeacon-system/fast metadata.name: still used by BGPPeer metalbeacon-system/r3 (spec.bfdProfile); remove the reference before deleting the profile',
    ]);
  });

  it('allows deleting an unreferenced profile', () => {
    assert.deepEqual(bfdProfileDeletionErrors(ref, [peer('r1', { bfdProfile: 'slow' }), peer('r2', {})]), []);
  });
});
