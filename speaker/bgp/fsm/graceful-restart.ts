import { ALL_TIMERS, type Step } from './step-context.ts';
import { openOn } from './transitions.ts';
import type { ConnectionId, FsmState } from './types.ts';

/**
 * Graceful restart in the FSM (RFC 4724): the one transition it changes, a peer that restarted
 * connecting again while its old session still looks Established.
 */

/** The peer advertised graceful restart for at least one family (RFC 4724 §3). */
export function peerCanRestart(st: FsmState): boolean {
  return (
    st.negotiated?.peerOpen.capabilities.some(
      (c) => c.kind === 'graceful-restart' && c.families.length > 0,
    ) ?? false
  );
}

/**
 * RFC 4724 §5, Established, event 17 with graceful restart received: the peer connecting again
 * has restarted and its old connection is dead, so the old one is dropped (no NOTIFICATION: the
 * peer keeps our routes until End-of-RIB), the counter reset, and the session starts over on
 * the new connection instead of the §6.8 collision rule closing it.
 */
export function replaceRestartedPeer(s: Step, conn: ConnectionId): void {
  s.do({ type: 'close', conn: s.state.main!.id });
  for (const timer of ALL_TIMERS) s.do({ type: 'stopTimer', timer });
  s.do({ type: 'down', reason: 'peer restarted: new connection replaces the old (RFC 4724 §5)' });
  s.set({
    name: 'Connect',
    connectRetryCounter: 0,
    main: undefined,
    negotiated: undefined,
    establishedAtMs: undefined,
  });
  openOn(s, conn, false);
}
