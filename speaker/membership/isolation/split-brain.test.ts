import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isolationVerdict } from './split-brain.ts';

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
