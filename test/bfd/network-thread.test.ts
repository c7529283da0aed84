import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Lab } from '../../lab/netns.ts';
import type { Bird } from '../../lab/peers/bird.ts';
import { sameBirdInstant } from '../../lab/router.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import { BfdNode, startBfdLan } from './harness.ts';

// BFD runs on the speaker's network thread: a main thread busy for 2 s (a large API list, a
// long GC) neither stops our packets nor lets the peer's silence go unnoticed. The peer is BIRD
// in another namespace, with the BFDProfile defaults (300 ms x3: 0.9 s Detection Time, well
// inside the 2 s block). The same block with the sessions on the main thread shows the test
// can fail: BIRD then sees the session go down.
const PROFILE_DEFAULTS = { desiredMinTxUs: 300_000, requiredMinRxUs: 300_000, detectMult: 3, passive: false };

describe('BFD on the network thread: a blocked main thread', { timeout: 120_000 }, () => {
  let lab: Lab;
  let bird: Bird;
  before(async () => {
    ({ lab, bird } = await startBfdLan('bfdthread'));
  });
  after(async () => {
    await bird?.stop();
    await lab?.destroy();
  });

  /** Runs one fixture: session Up with BIRD, 2 s block; returns what each side saw. */
  async function blockFor2s(thread: 'worker' | 'main') {
    const node = await BfdNode.start(lab, 'node', thread);
    try {
      node.set([
        {
          key: 'router',
          peerAddress: '192.0.2.1',
          multihop: false,
          minimumTtl: 254,
          timers: PROFILE_DEFAULTS,
        },
      ]);
      await node.waitState('router', 'Up');
      const up = await waitFor('BIRD session Up', async () =>
        (await bird.bfdSessions()).find((s) => s.address === '192.0.2.10' && s.state === 'Up'),
      );
      const transitionsBefore = node.transitions().length;
      await node.block(2_000);
      // Well past a Detection Time after the block: anything the block caused has happened.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      await node.waitState('router', 'Up');
      const birdAfter = (await bird.bfdSessions()).find((s) => s.address === '192.0.2.10');
      return { since: up.since, birdAfter, ours: node.transitions().slice(transitionsBefore) };
    } finally {
      await node.stop();
      // BIRD forgets the fixture's session before the next one starts.
      await waitFor('BIRD session down after the fixture', async () =>
        (await bird.bfdSessions()).every((s) => s.state !== 'Up'),
      );
    }
  }

  it('sessions on the network thread stay Up through a 2 s block of the main thread', async () => {
    const { since, birdAfter, ours } = await blockFor2s('worker');
    assert.deepEqual(ours, [], 'no state change on our side');
    assert.equal(birdAfter?.state, 'Up');
    assert.ok(sameBirdInstant(birdAfter?.since, since), "BIRD's session never left Up");
  });

  it('control: the same sessions on the main thread go down during the block', async () => {
    const { since, birdAfter, ours } = await blockFor2s('main');
    assert.ok(!sameBirdInstant(birdAfter?.since, since), "BIRD's session changed state");
    assert.ok(
      ours.some((t) => t.from === 'Up' && t.to === 'Down'),
      `our session went down: ${JSON.stringify(ours)}`,
    );
  });
});
