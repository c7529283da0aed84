import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countFlaps } from './flaps.ts';

// Speaker log lines as speaker/bfd/engine/engine.ts and speaker/bgp/session.ts write them.
const line = (fields: object) => JSON.stringify({ level: 40, time: 1_765_000_000_000, ...fields });
const bfd = (from: string, to: string, diag: string, remoteState: string, msg = 'BFD session down') =>
  line({ bfdSession: 'lab-router', peer: '192.0.2.1', from, to, diag, remoteState, msg });

describe('countFlaps', () => {
  it('counts a path failure: Up -> Down on Detection Time Expired or the peer saying Down', () => {
    const text = [
      bfd('Up', 'Down', 'Control Detection Time Expired', 'Up'),
      bfd('Up', 'Down', 'Neighbor Signaled Session Down', 'Down'),
      line({ peer: '192.0.2.1', cause: 'bfd-down', msg: 'BGP session reset' }),
    ].join('\n');
    assert.deepEqual(countFlaps(text), { bfdDowns: 2, bgpResets: 1 });
  });

  it('a deliberate shutdown is no flap: the peer AdminDown, our AdminDown, a Cease NOTIFICATION', () => {
    const text = [
      // The router turned its session off (BIRD reconfigured or stopped): logged as a down.
      bfd('Up', 'Down', 'Neighbor Signaled Session Down', 'AdminDown'),
      // The BGPPeer lost its BFDProfile: our side goes AdminDown.
      bfd('Up', 'AdminDown', 'Administratively Down', 'Up', 'BFD state change'),
      line({ peer: '192.0.2.1', code: 6, subcode: 2, msg: 'NOTIFICATION received' }),
      line({ peer: '192.0.2.1', cause: 'malformed-message', code: 3, subcode: 1, msg: 'BGP session reset' }),
    ].join('\n');
    assert.deepEqual(countFlaps(text), { bfdDowns: 0, bgpResets: 0 });
  });

  it('adversarial: text that is not a JSON log line, or names the message elsewhere, counts nothing', () => {
    const text = [
      '',
      'Error: boom "msg":"BFD session down"',
      '{"msg":"BFD session down", truncated',
      line({ msg: 'cannot report', err: { message: '"msg":"BFD session down" "cause":"bfd-down"' } }),
      line({ msg: 'BFD session down' }), // fields missing: no Up -> Down
      '[1,2,3]',
      'null',
    ].join('\n');
    assert.deepEqual(countFlaps(text), { bfdDowns: 0, bgpResets: 0 });
  });
});
