// The speaker's network thread: the one worker_threads Worker of `metalbeacon speaker` (and
// of `metalbeacon l2`), started by thread.ts. It runs the small, latency-sensitive network
// loops that must not wait for the main thread (JSON of large lists, GC of the main heap):
// the L2 packet worker (speaker/l2/io/worker.ts), the membership protocol
// (speaker/membership/io/worker-part.ts) and BFD (speaker/bfd/io/worker-part.ts). One isolate
// for all instead of one each saves the memory a Worker isolate costs (README, Performance).
// Each part gets a MessagePort of its own, over which its own protocol runs; this file only
// hands the ports out, and one LanLink to L2 and membership: the membership LAN path runs over
// the L2 worker's packet sockets (./lan-link.ts).
import { type MessagePort, parentPort } from 'node:worker_threads';
import { runBfdWorker } from '../bfd/io/worker-part.ts';
import { runL2Worker } from '../l2/io/worker.ts';
import type { WorkerStartData } from '../membership/io/worker-messages.ts';
import { runMembershipWorker } from '../membership/io/worker-part.ts';
import { LanLink } from './lan-link.ts';

/** What a part needs to start, besides its port. */
export type PartStart =
  | {
      readonly part: 'l2';
      /** SCHED_FIFO priority for the whole thread (0: none, a short slice); the speaker starts L2 first. */
      readonly priority: number;
    }
  | { readonly part: 'bfd' }
  | { readonly part: 'membership'; readonly data: WorkerStartData };

/** Main thread → network thread on parentPort: start a part on `port`. */
export type StartPart = PartStart & { readonly port: MessagePort };

const parent = parentPort;
if (!parent) throw new Error('speaker/network-thread/entry.ts runs only as a Worker');

const lan = new LanLink();
parent.on('message', (message: StartPart) => {
  if (message.part === 'l2') runL2Worker(message.port, lan, message.priority);
  else if (message.part === 'bfd') runBfdWorker(message.port);
  else void runMembershipWorker(message.port, message.data, lan);
});
