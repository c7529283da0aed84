import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isolationVerdict, needsApiProbe } from './split-brain.ts';

test('split-brain guard: the full truth table', () => {
  const table: Array<
    [knownPeers: number, alivePeers: number, apiReachable: boolean, announce: boolean, reason: string]
  > = [
    [0, 0, false, true, 'single-node'],
    [0, 0, true, true, 'single-node'],
    [2, 0, false, false, 'isolated'],
    [2, 0, true, true, 'api-reachable'],
    [2, 1, false, true, 'peers-alive'],
    [2, 1, true, true, 'peers-alive'],
    [2, 2, false, true, 'peers-alive'],
    [2, 2, true, true, 'peers-alive'],
  ];
  for (const [knownPeers, alivePeers, apiReachable, announce, reason] of table) {
    assert.deepEqual(
      isolationVerdict({ knownPeers, alivePeers, apiReachable }),
      { shouldAnnounce: announce, reason },
      JSON.stringify({ knownPeers, alivePeers, apiReachable }),
    );
  }
});

test('the API server is asked exactly when the verdict depends on it', () => {
  for (const knownPeers of [0, 1, 3]) {
    for (let alivePeers = 0; alivePeers <= knownPeers; alivePeers++) {
      const reachable = isolationVerdict({ knownPeers, alivePeers, apiReachable: true });
      const cut = isolationVerdict({ knownPeers, alivePeers, apiReachable: false });
      assert.equal(
        needsApiProbe({ knownPeers, alivePeers }),
        reachable.shouldAnnounce !== cut.shouldAnnounce,
        JSON.stringify({ knownPeers, alivePeers }),
      );
    }
  }
});
