import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { entryUrl } from '../../shared/runtime/entry-url.ts';
import type { PartStart, StartPart } from './entry.ts';

/**
 * The main thread's side of the speaker's network thread (entry.ts): one Worker for all its
 * parts (the L2 packet worker, the membership protocol), started when the first part is,
 * ended when the last one is released, started again by a later part. Each part gets a
 * MessagePort of its own; what runs over it is the part's business.
 */

/** A part running on the network thread, as its main-thread handle sees it. */
export interface NetworkPart {
  /** This side of the part's channel. */
  readonly port: MessagePort;
  /**
   * Lets go of the part: closes its port (a part still running stops) and, if it was the
   * last part, ends the thread. Call it once the part's own protocol has stopped it, or
   * to give up on it. Resolves when done (the thread has exited, if it was ended).
   */
  release(): Promise<void>;
}

interface Thread {
  readonly worker: Worker;
  /** parts not released yet → what to call if they end before that */
  readonly parts: Map<NetworkPart, (error: Error) => void>;
  failure: Error | undefined;
  running: boolean;
}

/** The thread parts start on; undefined until the first part and after the last. */
let current: Thread | undefined;

function networkThread(): Thread {
  if (current?.running) return current;
  const worker = new Worker(entryUrl(import.meta.url, './entry.ts', './speaker-worker.mjs'), {
    name: 'metalbeacon-network',
  });
  const thread: Thread = { worker, parts: new Map(), failure: undefined, running: true };
  worker.on('error', (error) => {
    thread.failure = error;
  });
  worker.on('exit', (code) => {
    thread.running = false;
    if (current === thread) current = undefined;
    const error = thread.failure ?? new Error(`the speaker's network thread exited with code ${code}`);
    const ended = [...thread.parts.values()];
    thread.parts.clear();
    for (const onEnd of ended) onEnd(error);
  });
  current = thread;
  return thread;
}

/**
 * Starts a part on the network thread (starting the thread if none runs). `onEnd` is
 * called at most once, only if the part ends before it is released: the thread died (with
 * its error) or the thread closed the part's port on its own.
 */
export function startNetworkPart(start: PartStart, onEnd: (error: Error) => void): NetworkPart {
  const thread = networkThread();
  const { port1: port, port2: theirs } = new MessageChannel();
  let released: Promise<void> | undefined;
  const part: NetworkPart = {
    port,
    release() {
      released ??= (async () => {
        port.close();
        await drop(thread, part);
      })();
      return released;
    },
  };
  thread.parts.set(part, onEnd);
  port.on('close', () => {
    if (!thread.parts.has(part)) return; // released, or already ended with the thread
    // The thread closed it: when it dies, its 'exit' (with the error) may come just after
    // this and end the part; otherwise the part stopped talking without being asked to.
    const timer = setTimeout(() => {
      if (!thread.parts.has(part)) return;
      void drop(thread, part);
      onEnd(new Error(`the ${start.part} part of the speaker's network thread closed its port`));
    }, 1000);
    thread.worker.once('exit', () => clearTimeout(timer));
  });
  thread.worker.postMessage({ ...start, port: theirs } satisfies StartPart, [theirs]);
  return part;
}

/** Forgets `part`; ends the thread when it was the last one. */
async function drop(thread: Thread, part: NetworkPart): Promise<void> {
  thread.parts.delete(part);
  if (!thread.running || thread.parts.size > 0) return;
  thread.running = false;
  if (current === thread) current = undefined;
  await thread.worker.terminate();
}
