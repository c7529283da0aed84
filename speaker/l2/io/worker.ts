// The packet worker: runs the L2 engine on the speaker's network thread
// (speaker/network-thread/), so answers do not wait for a busy main thread (ADR 0001;
// `npm run bench:arp` measures it with the main thread busy). It talks to L2Transport
// over the port it is given (speaker/l2/engine/messages.ts); on 'stop', or when the main thread
// closes the port, it closes its sockets.
import type { MessagePort } from 'node:worker_threads';
import { type LoopMeter, loadNative } from '../../../native/index.ts';
import type { LanLink } from '../../network-thread/lan-link.ts';
import { scheduleNetworkThread } from '../../network-thread/scheduling.ts';
import { assembleBpf, responderFilter } from '../bpf/bpf.ts';
import { L2Engine } from '../engine/engine.ts';
import type { FromWorker, ToWorker } from '../engine/messages.ts';

const filter = assembleBpf(responderFilter());
let native: ReturnType<typeof loadNative> | undefined;

/**
 * Runs one L2 engine answering the requests that arrive on `port`; `lan` carries membership's
 * LAN path over its sockets (absent: none). `priority`: the thread's SCHED_FIFO priority, 0
 * for none (scheduleThread).
 */
export function runL2Worker(port: MessagePort, lan?: LanLink, priority = 0): void {
  const post = (message: FromWorker) => port.postMessage(message);
  const engine = new L2Engine({
    openSocket(iface, onFrame) {
      native ??= loadNative();
      return new native.PacketSocket({
        ifindex: iface.ifindex,
        protocol: 0x0003, // ETH_P_ALL; the BPF filter keeps ARP and NS only
        filter,
        receiveBufferBytes: 4 * 1024 * 1024,
        onFrame,
      });
    },
    post,
    nowMs: () => performance.now(),
    setTimer: (callback, ms) => setTimeout(callback, ms),
    clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
    ...(lan ? { lan } : {}),
  });
  lan?.attachEngine(engine);
  scheduleThread(priority, post);
  const meter = startLoopMeter();
  let stopped = false;
  const stop = () => {
    lan?.attachEngine(undefined);
    engine.stop();
    meter?.close();
    stopped = true;
  };
  // The main thread let go of us without a 'stop' (its side failed): close the sockets anyway.
  port.on('close', () => {
    if (!stopped) stop();
  });

  port.on('message', (message: ToWorker) => {
    try {
      switch (message.type) {
        case 'configure':
          engine.configure(message.schedule, message.rateLimit, message.overallRateLimit);
          break;
        case 'interfaces':
          engine.setInterfaces(message.interfaces);
          break;
        case 'announce':
          engine.announce(message.ip, message.interfaces);
          break;
        case 'withdraw':
          engine.withdraw(message.ip);
          break;
        case 'reassert':
          engine.reassert();
          break;
        case 'counters':
          post({ type: 'counters', id: message.id, counters: engine.counters(), active: engine.active() });
          return;
        case 'loop-work':
          post({ type: 'loop-work', id: message.id, work: meter?.take() });
          return;
        case 'stop':
          stop();
          post({ type: 'done', id: message.id });
          port.close();
          return;
      }
      post({ type: 'done', id: message.id });
    } catch (error) {
      const e = error as Error & { code?: string };
      post({ type: 'done', id: message.id, error: { code: e.code, message: e.message } });
    }
  });
}

/**
 * Asks the kernel to run this thread under SCHED_FIFO at `priority` (0: not), or else with a
 * short slice (../../network-thread/scheduling.ts): on a busy node an ARP request otherwise
 * waits for a core behind other tasks. The whole network thread gets it (membership and BFD
 * too: heartbeats are as urgent). Refused or without the addon: a warning, never a failure.
 */
function scheduleThread(priority: number, post: (message: FromWorker) => void): void {
  let calls: ReturnType<typeof loadNative> | undefined;
  try {
    native ??= loadNative();
    calls = native;
  } catch {
    calls = undefined;
  }
  const scheduling = scheduleNetworkThread(priority, calls, (warning) =>
    post({ type: 'event', level: 'warn', message: warning.message, fields: warning.fields }),
  );
  if (scheduling.policy === 'fifo') {
    post({
      type: 'event',
      level: 'info',
      message: 'network thread: real-time scheduling',
      fields: { policy: 'SCHED_FIFO', priority: scheduling.priority },
    });
  }
}

/**
 * Measures this thread's loop iterations: an ARP request waits for the end of the one it
 * arrives in, whatever part of the thread does the work. None without the addon.
 */
function startLoopMeter(): LoopMeter | undefined {
  try {
    native ??= loadNative();
    return new native.LoopMeter();
  } catch {
    return undefined;
  }
}
