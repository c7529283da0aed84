import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EventSpec, EventTarget } from '../../shared/daemon/event-recorder.ts';
import type { BfdTransition } from '../bfd/engine/index.ts';
import { BfdEvents } from './bfd-events.ts';

/** Records what would reach the EventRecorder, one line per call. */
function recorded() {
  const calls: string[] = [];
  const events = new BfdEvents({
    nodeName: 'node-a',
    namespace: 'metalbeacon-system',
    peer: (name) => (name === 'gone' ? undefined : { metadata: { uid: `uid-${name}` } }),
    recorder: {
      post: (target: EventTarget, event: EventSpec) =>
        calls.push(
          `post ${target.kind} ${target.namespace}/${target.name} ${target.uid} ${event.type} ${event.reason} ${event.message}`,
        ),
      forget: (target: Pick<EventTarget, 'kind' | 'namespace' | 'name'>, reason: string) =>
        calls.push(`forget ${target.kind} ${target.namespace}/${target.name} ${reason}`),
    },
  });
  return { events, calls };
}

function change(
  key: string,
  from: BfdTransition['from'],
  to: BfdTransition['to'],
  extra: Partial<BfdTransition> = {},
): BfdTransition {
  return {
    key,
    peerAddress: '192.0.2.1',
    from,
    to,
    diag: 0,
    diagName: 'NoDiagnostic',
    remoteState: to === 'Down' ? 'Down' : to,
    atMs: 0,
    ...extra,
  };
}

describe('BfdEvents', () => {
  it('posts bfdDown on the BGPPeer for a path failure that resets BGP, and re-arms it on Up', () => {
    const { events, calls } = recorded();
    events.transition(change('router', 'Down', 'Init'));
    events.transition(change('router', 'Init', 'Up'));
    events.transition(change('router', 'Up', 'Down', { diag: 1, diagName: 'ControlDetectionTimeExpired' }));
    events.transition(change('gone', 'Up', 'Down', { diag: 3, diagName: 'NeighborSignaledSessionDown' }));
    assert.deepEqual(calls, [
      'forget BGPPeer metalbeacon-system/router bfdDown',
      'post BGPPeer metalbeacon-system/router uid-router Warning bfdDown node node-a: BFD session with 192.0.2.1 went Down (ControlDetectionTimeExpired); BGP session reset (Cease / BFD Down), held until BFD is Up again',
      'post BGPPeer metalbeacon-system/gone undefined Warning bfdDown node node-a: BFD session with 192.0.2.1 went Down (NeighborSignaledSessionDown); BGP session reset (Cease / BFD Down), held until BFD is Up again',
    ]);
  });

  it('posts nothing when the peer turns BFD off (AdminDown) or a session that never came up changes', () => {
    const { events, calls } = recorded();
    events.transition(
      change('router', 'Up', 'Down', { remoteState: 'AdminDown', diagName: 'NeighborSignaledSessionDown' }),
    );
    events.transition(change('router', 'Init', 'Down', { diagName: 'ControlDetectionTimeExpired' }));
    events.transition(
      change('router', 'Up', 'AdminDown', { remoteState: 'Up', diagName: 'AdministrativelyDown' }),
    );
    assert.deepEqual(calls, []);
  });
});
