import { NO_REPLAY_STATE } from './replay-window.ts';
import type { MembershipState, Now, PeerRecord } from './state.ts';

/**
 * The peer list (node names from the API, this node skipped). A removed peer's record stays,
 * unlisted, for the replay window, so that a list that flaps does not reset its replay counters
 * and let an old datagram of it be replayed; listed again, its liveness must be heard anew.
 */

/** A listed peer never heard from. */
export function newPeer(now: Now): PeerRecord {
  return {
    listed: true,
    status: 'unknown',
    lastHeardMonoMs: undefined,
    udpHeardMonoMs: undefined,
    lan: undefined,
    ...NO_REPLAY_STATE,
    changedAtMonoMs: now.monoMs,
    holdings: [],
    holdingsHeardMonoMs: undefined,
    restartUntilMonoMs: undefined,
    resumingUntilMonoMs: undefined,
    nodeAliveMonoMs: undefined,
  };
}

/** The peer list changed: records kept, unlisted or listed anew as above; new names start unknown. */
export function onSetPeers(state: MembershipState, names: readonly string[], now: Now): MembershipState {
  const wanted = new Set(names.filter((name) => name !== state.config.nodeName));
  const peers = new Map<string, PeerRecord>();
  for (const [name, record] of state.peers) {
    if (wanted.has(name) === record.listed) peers.set(name, record);
    else if (record.listed) peers.set(name, { ...record, listed: false, changedAtMonoMs: now.monoMs });
    // Back in the list: its replay counters stand, its liveness must be heard anew (a restarting
    // peer's hold stands: its new Pod is listed before its new speaker talks).
    else if (record.status === 'restarting') peers.set(name, { ...record, listed: true });
    else
      peers.set(name, {
        ...record,
        listed: true,
        status: 'unknown',
        lastHeardMonoMs: undefined,
        changedAtMonoMs: now.monoMs,
      });
  }
  for (const name of wanted) if (!peers.has(name)) peers.set(name, newPeer(now));
  return { ...state, peers };
}
