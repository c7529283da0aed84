import { API_VERSION } from '../../shared/api/names.ts';
import type { BfdProfileConfig } from '../../shared/config/types.ts';
import type { EventRecorder, EventTarget } from '../../shared/daemon/event-recorder.ts';
import type { Logger } from '../../shared/log/logger.ts';
import type { Registry } from '../../shared/metrics/metrics.ts';
import { type BfdTransition, clientSignal } from '../bfd/engine/index.ts';
import { registerBfdMetrics } from '../bfd/io/metrics.ts';
import { PeerBfd } from '../bfd/io/peer-bfd.ts';

export interface BfdEventsOptions {
  /** The speaker's recorder (aggregating by changes): one Event per Down until the next Up. */
  readonly recorder: Pick<EventRecorder, 'post' | 'forget'>;
  readonly nodeName: string;
  /** The namespace of the BGPPeers. */
  readonly namespace: string;
  /** A BGPPeer as the cache has it now (for its uid); undefined when it is gone. */
  readonly peer: (name: string) => { metadata?: { uid?: string } } | undefined;
}

/**
 * The Event a speaker posts on a BGPPeer when the BFD session protecting it goes Down for a path
 * failure and so resets the BGP session (RFC 5882; the same rule, clientSignal, decides both). Its
 * coming Up again re-arms it, so each flap posts one Event; an AdminDown posts none.
 */
export class BfdEvents {
  readonly #o: BfdEventsOptions;

  constructor(options: BfdEventsOptions) {
    this.#o = options;
  }

  transition(t: BfdTransition): void {
    const signal = clientSignal(t);
    if (signal === undefined) return;
    const target: EventTarget = {
      apiVersion: API_VERSION,
      kind: 'BGPPeer',
      namespace: this.#o.namespace,
      name: t.key,
      uid: this.#o.peer(t.key)?.metadata?.uid,
    };
    if (signal === 'up') {
      this.#o.recorder.forget(target, 'bfdDown');
      return;
    }
    this.#o.recorder.post(target, {
      type: 'Warning',
      reason: 'bfdDown',
      message: `node ${this.#o.nodeName}: BFD session with ${t.peerAddress} went Down (${t.diagName}); BGP session reset (Cease / BFD Down), held until BFD is Up again`,
    });
  }
}

/**
 * The speaker's BFD with its BGP peers (run on the network thread once a peer names a profile):
 * each transition posts its Event and then calls `changed` (the status writer); its metrics are
 * read from the network thread per scrape.
 */
export function speakerBfd(
  options: BfdEventsOptions & {
    readonly log: Logger;
    readonly registry: Registry;
    readonly profiles: () => readonly BfdProfileConfig[];
    readonly onFatal: (error: Error) => void;
    readonly changed: () => void;
  },
): PeerBfd {
  const events = new BfdEvents(options);
  const bfd = new PeerBfd({
    logger: options.log.child({ component: 'bfd' }),
    profiles: options.profiles,
    onFatal: options.onFatal,
    onTransition: (t) => {
      events.transition(t);
      options.changed();
    },
  });
  registerBfdMetrics(options.registry, () => bfd.snapshot());
  return bfd;
}
