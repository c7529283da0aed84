import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { accept, isFresh, NO_REPLAY_STATE, REPLAY_WINDOW, type ReplayState } from './replay-window.ts';

test('in order, out of order within the window, each once; older incarnations and sequences below the window never', () => {
  let state: ReplayState = NO_REPLAY_STATE;
  const take = (incarnation: bigint, sequence: bigint) => {
    const fresh = isFresh(state, incarnation, sequence);
    if (fresh) state = accept(state, incarnation, sequence);
    return fresh;
  };
  assert.deepEqual(
    [take(5n, 10n), take(5n, 12n), take(5n, 11n), take(5n, 11n), take(5n, 12n)],
    [true, true, true, false, false],
  );
  assert.equal(take(5n, 12n + REPLAY_WINDOW), true);
  assert.equal(take(5n, 12n), false, 'fell out of the window');
  assert.equal(take(5n, 13n + 1n), true, 'inside the window, never seen');
  assert.equal(take(4n, 1000n), false, 'an older incarnation');
  assert.equal(take(6n, 1n), true, 'a restart');
  assert.equal(take(5n, 10_000n), false);
  assert.equal(take(6n, 1n), false);
});

test('property: every (incarnation, sequence) is accepted at most once, whatever the order', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.bigInt({ min: 1n, max: 3n }), fc.bigInt({ min: 0n, max: 200n })), {
        maxLength: 300,
      }),
      (arrivals) => {
        let state: ReplayState = NO_REPLAY_STATE;
        const accepted = new Set<string>();
        for (const [incarnation, sequence] of arrivals) {
          if (!isFresh(state, incarnation, sequence)) continue;
          const key = `${incarnation}/${sequence}`;
          assert.ok(!accepted.has(key), `${key} accepted twice`);
          accepted.add(key);
          state = accept(state, incarnation, sequence);
        }
      },
    ),
    { numRuns: 500 },
  );
});

test('property: a shuffled window of consecutive sequences is accepted whole', () => {
  fc.assert(
    fc.property(fc.shuffledSubarray([...Array(64).keys()], { minLength: 64, maxLength: 64 }), (order) => {
      let state = accept(NO_REPLAY_STATE, 1n, 100n);
      for (const i of order) {
        const sequence = 101n + BigInt(i);
        assert.ok(isFresh(state, 1n, sequence), `${sequence}`);
        state = accept(state, 1n, sequence);
      }
    }),
  );
});
