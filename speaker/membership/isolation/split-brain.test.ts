import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isolationVerdict, needsApiProbe, REGATHER_MS, regathered } from './split-brain.ts';

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

test('split-brain guard: a node whose own LAN link has no carrier is the one cut off, whatever the API server says', () => {
  // A link flap of the owner while it keeps the API server (a management network, the lab's
  // relay): it used to go on announcing into the dead link and, back, take its IPs from the node
  // that served them meanwhile (a second move, issue 18).
  const table: Array<
    [
      knownPeers: number,
      alivePeers: number,
      apiReachable: boolean,
      lanUp: boolean | undefined,
      reason: string,
    ]
  > = [
    [2, 0, true, false, 'lan-down'],
    [2, 0, false, false, 'isolated'],
    [2, 0, true, true, 'api-reachable'],
    [2, 0, true, undefined, 'api-reachable'],
    [2, 0, false, undefined, 'isolated'],
    [2, 1, true, false, 'peers-alive'],
    [2, 1, false, false, 'peers-alive'],
    [0, 0, true, false, 'single-node'],
    [0, 0, false, false, 'single-node'],
  ];
  for (const [knownPeers, alivePeers, apiReachable, lanUp, reason] of table) {
    const input = { knownPeers, alivePeers, apiReachable, ...(lanUp === undefined ? {} : { lanUp }) };
    const verdict = isolationVerdict(input);
    assert.equal(verdict.reason, reason, JSON.stringify(input));
    assert.equal(verdict.shouldAnnounce, !['lan-down', 'isolated'].includes(reason), JSON.stringify(input));
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

test('back from isolation: announce again once every peer is heard, or regatherMs after the guard first could lift', () => {
  const at = (alivePeers: number, nowMs: number) =>
    regathered({ knownPeers: 2, alivePeers, sinceMs: 1000, nowMs, regatherMs: REGATHER_MS });
  assert.equal(at(1, 1000), false, 'one of two peers heard: the other may still hold what it took over');
  assert.equal(at(1, 1000 + REGATHER_MS - 1), false);
  assert.equal(at(2, 1000), true, 'all heard');
  assert.equal(at(1, 1000 + REGATHER_MS), true, 'the silent one is gone');
  assert.equal(at(0, 1000 + REGATHER_MS), true, 'none heard, the API server answers: they are gone');
  assert.equal(
    regathered({ knownPeers: 0, alivePeers: 0, sinceMs: 0, nowMs: 0, regatherMs: REGATHER_MS }),
    true,
    'alone',
  );
});
