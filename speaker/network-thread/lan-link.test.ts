import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type LanEngine, LanLink } from './lan-link.ts';

/** The engine's side of the link, recording what the link asks of it. */
function recordingEngine(): LanEngine & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    sendMembership: () => true,
    broadcastMembership: () => {},
    pinInterfaces: (interfaces) => void calls.push(`pin ${[...interfaces].join(',')}`),
    listenForMembership: (on) => void calls.push(`listen ${on}`),
  };
}

const receiver = { frame: () => {}, conflict: () => {} };

describe('LanLink', () => {
  it('tells the engine to keep its interfaces open while membership listens, whichever part starts first', () => {
    const link = new LanLink();
    const engine = recordingEngine();
    link.attachEngine(engine);
    link.listen(receiver);
    link.listen(undefined);
    assert.deepEqual(engine.calls, ['pin ', 'listen false', 'listen true', 'listen false']);

    const late = new LanLink();
    late.listen(receiver);
    late.pin(['eth1']);
    const engine2 = recordingEngine();
    late.attachEngine(engine2);
    assert.deepEqual(engine2.calls, ['pin eth1', 'listen true']);
  });
});
