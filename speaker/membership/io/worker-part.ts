import type { MessagePort } from 'node:worker_threads';
import type { LanPort } from './lan-port.ts';
import type { MembershipMetrics } from './metrics.ts';
import { MembershipBindError, UdpMembership, type UdpMembershipEvents } from './udp-membership.ts';
import type { FromWorker, ToWorker, WorkerStartData } from './worker-messages.ts';

// Runs UdpMembership on the speaker's network thread (speaker/network-thread/), so that the
// speaker's main thread (API watches, JSON of large lists, GC of the main heap) can neither
// delay a detection nor stop our heartbeats long enough for the peers to raise a false alarm.
// It talks to WorkerMembership over the port it is given (worker-messages.ts).

/**
 * Starts one membership with `data` and serves it on `port` until 'leave' or 'close'; `lan`
 * is the LAN path's wire (the L2 part's sockets on this thread).
 */
export async function runMembershipWorker(
  port: MessagePort,
  data: WorkerStartData,
  lan?: LanPort,
): Promise<void> {
  // Until 'started' is out, the caller expects nothing else: hold logs and metrics of the start.
  let started = false;
  const held: FromWorker[] = [];
  const post = (message: FromWorker) => {
    if (started || message.type === 'start-failed') port.postMessage(message);
    else held.push(message);
  };

  const metrics: MembershipMetrics = {
    aliveMembers: (value) => post({ type: 'metric', metric: 'aliveMembers', value }),
    failureDetected: (value) => post({ type: 'metric', metric: 'failureDetected', value }),
    lanOnlyPeers: (value) => post({ type: 'metric', metric: 'lanOnlyPeers', value }),
    floodedSources: (value) => post({ type: 'metric', metric: 'floodedSources', value }),
    // One message per flush with every reason's count, however many datagrams were dropped.
    messagesRejected: (counts) => post({ type: 'rejected', counts }),
  };
  // Debug lines stay here: nothing per datagram may cross to the main thread.
  const logger = {
    info: (obj: object, msg: string) => post({ type: 'log', level: 'info', obj, msg }),
    warn: (obj: object, msg: string) => post({ type: 'log', level: 'warn', obj, msg }),
    debug: () => {},
  };

  let membership: UdpMembership;
  try {
    membership = await UdpMembership.start({ ...data, metrics, logger, ...(lan ? { lan } : {}) });
  } catch (error) {
    const bind =
      error instanceof MembershipBindError
        ? { address: data.bindAddress ?? '::', port: data.port ?? 0, code: error.code }
        : undefined;
    post({
      type: 'start-failed',
      message: error instanceof Error ? error.message : String(error),
      ...(bind ? { bind } : {}),
    });
    // Only this part ends: the thread may serve others (the L2 packet worker).
    port.close();
    return;
  }

  const events = [
    'alive-changed',
    'settled',
    'holdings-changed',
    'resumed',
    'peer-restarting',
    'peer-failed',
    'peer-left',
    'peer-joined',
  ] as const;
  for (const event of events) {
    membership.on(event, (...args: UdpMembershipEvents[typeof event]) =>
      post({ type: 'event', event, args }),
    );
  }
  port.postMessage({ type: 'started', local: membership.localSocket() } satisfies FromWorker);
  started = true;
  for (const message of held.splice(0)) port.postMessage(message);

  let stopping = false;
  // The main thread let go of us without 'leave' or 'close' (its side failed): close the socket.
  port.on('close', () => {
    if (stopping) return;
    stopping = true;
    void membership.close();
  });
  port.on('message', (message: ToWorker) => {
    if (message.type === 'set-peers') membership.setPeers(message.peers);
    else if (message.type === 'set-holdings') membership.setHoldings(message.holdings);
    else if (!stopping) {
      stopping = true;
      const stop =
        message.type === 'leave'
          ? membership.leave()
          : message.type === 'restart'
            ? membership.restart(message.holdMs)
            : membership.close();
      void stop.then(() => {
        post({ type: 'stopped' });
        port.close();
      });
    }
  });
}
