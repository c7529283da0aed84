import type { MessagePort } from 'node:worker_threads';
import { BfdEngine, type FromBfdWorker, type ToBfdWorker } from '../engine/index.ts';
import { nativeBfdIo } from './native-io.ts';

// BFD on the speaker's network thread (speaker/network-thread/): the sessions' packets and
// Detection Times must not wait for the main thread (API lists, JSON, GC of the main heap),
// or a busy speaker would look dead to its routers and a dead router would be noticed late.
// It talks to WorkerBfd over the port it is given (engine/messages.ts).

/** Runs one BFD engine for the requests that arrive on `port`, until 'close' or the port closes. */
export function runBfdWorker(port: MessagePort): void {
  const post = (message: FromBfdWorker) => port.postMessage(message);
  const log =
    (level: 'info' | 'warn' | 'error') =>
    (obj: object, msg: string): void => {
      // Errors do not survive structured cloning with their stack; send what a log line shows.
      const { err, ...rest } = obj as { err?: unknown };
      post({ type: 'log', level, obj: err === undefined ? rest : { ...rest, err: String(err) }, msg });
    };
  let closed = false;
  let engine: BfdEngine | undefined;
  const start = (): BfdEngine =>
    (engine ??= new BfdEngine({
      io: nativeBfdIo(),
      logger: { info: log('info'), warn: log('warn'), error: log('error') },
      onTransition: (transition) => post({ type: 'transition', transition }),
    }));
  // The main thread let go of us without 'close' (its side failed): close the sockets anyway.
  port.on('close', () => {
    if (!closed) engine?.close();
    closed = true;
  });
  port.on('message', (message: ToBfdWorker) => {
    switch (message.type) {
      case 'set-sessions':
        // The thread runs the L2 worker and membership too: BFD failing to start (no addon)
        // must not end it.
        try {
          start().setSessions(message.specs);
        } catch (error) {
          log('error')({ err: error }, 'BFD sessions not started');
        }
        return;
      case 'snapshot':
        post({
          type: 'snapshot',
          id: message.id,
          snapshot: engine?.snapshot() ?? { sessions: [], dropped: {} },
        });
        return;
      case 'close':
        closed = true;
        engine?.close();
        post({ type: 'closed' });
        port.close();
        return;
    }
  });
}
