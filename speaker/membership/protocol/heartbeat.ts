import { sendHoldings } from './holdings.ts';
import { claimOnLan, sendOnLan } from './lan-path.ts';
import { agePeers } from './liveness.ts';
import { forgetResumed, sendResumes } from './restart.ts';
import { broadcastSigned } from './send.ts';
import type { MembershipAction, MembershipState, Now } from './state.ts';

/**
 * Our side of the timers: the shell ticks every `tickMs`; each tick ages the peers
 * (./liveness.ts) and, every `heartbeatIntervalMs`, sends what the peers must hear from us, in
 * the order they need it. Leaving ends the heartbeats.
 */

/** A timer tick: the peers age, then what is due goes out (nothing once we left or restart). */
export function onTick(state: MembershipState, now: Now, actions: MembershipAction[]): MembershipState {
  const { peers, failed } = agePeers(state, now, actions);
  let next = forgetResumed({ ...state, peers, lastTickMonoMs: now.monoMs }, now, actions);
  if (state.leaving) return next;
  if (failed) next = claimOnLan(next, now, actions);
  if (now.monoMs >= state.nextHeartbeatMonoMs) next = beat(next, state.nextHeartbeatMonoMs, now, actions);
  return next;
}

/** One heartbeat that was due at `dueMonoMs`, with what goes before it and on the LAN path after it. */
function beat(
  state: MembershipState,
  dueMonoMs: number,
  now: Now,
  actions: MembershipAction[],
): MembershipState {
  let next = state;
  // Holdings first: a peer that starts listening hears them before it settles on our heartbeat.
  if (next.holdings.length > 0) next = sendHoldings(next, now, actions);
  next = sendResumes(next, now, actions);
  next = broadcastSigned(next, 'Heartbeat', now, actions);
  // After a stall send one heartbeat, not a burst, and keep the rhythm from now.
  const due = dueMonoMs + state.config.heartbeatIntervalMs;
  next = {
    ...next,
    nextHeartbeatMonoMs: due > now.monoMs ? due : now.monoMs + state.config.heartbeatIntervalMs,
  };
  return sendOnLan(next, 'Heartbeat', now, actions);
}

/** Leave goes out a few times, on the port and on every LAN path in use; then we are silent. */
export function onLeave(state: MembershipState, now: Now, actions: MembershipAction[]): MembershipState {
  if (state.leaving) return state;
  let next = state;
  for (let i = 0; i < state.config.leaveRepeats; i++) {
    next = broadcastSigned(next, 'Leave', now, actions);
    next = sendOnLan(next, 'Leave', now, actions);
  }
  return { ...next, leaving: true };
}
