import type { BfdTransition } from './client.ts';
import type { BfdSessionSpec } from './spec.ts';
import type { BfdSnapshot } from './status.ts';

/** Main thread → the BFD part of the network thread (speaker/bfd/io/worker-part.ts). */
export type ToBfdWorker =
  | { readonly type: 'set-sessions'; readonly specs: readonly BfdSessionSpec[] }
  | { readonly type: 'snapshot'; readonly id: number }
  /** AdminDown on every session, sockets closed, then 'closed'. */
  | { readonly type: 'close' };

/**
 * The BFD part → main thread. Transitions are pushed as they happen; counters travel only in
 * snapshots asked for, so a flood of datagrams never becomes a flood of messages.
 */
export type FromBfdWorker =
  | { readonly type: 'transition'; readonly transition: BfdTransition }
  | { readonly type: 'snapshot'; readonly id: number; readonly snapshot: BfdSnapshot }
  | {
      readonly type: 'log';
      readonly level: 'info' | 'warn' | 'error';
      readonly obj: object;
      readonly msg: string;
    }
  | { readonly type: 'closed' };
