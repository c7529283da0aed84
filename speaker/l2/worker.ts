// The packet worker: runs the L2 engine on its own thread, so answers do not wait for a
// busy main thread (a prototype measured 41 ms average on a busy main thread, < 1.5 ms here).
import { parentPort } from 'node:worker_threads';
import { loadNative } from '../../native/index.ts';
import { arpAndNeighborSolicitationFilter, assembleBpf } from './bpf.ts';
import { L2Engine } from './engine.ts';
import type { FromWorker, ToWorker } from './messages.ts';

const port = parentPort;
if (!port) throw new Error('speaker/l2/worker.ts must run as a worker_threads Worker');

const post = (message: FromWorker) => port.postMessage(message);
const filter = assembleBpf(arpAndNeighborSolicitationFilter());
let native: ReturnType<typeof loadNative> | undefined;

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
});

port.on('message', (message: ToWorker) => {
  try {
    switch (message.type) {
      case 'configure':
        engine.configure(message.schedule, message.rateLimit);
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
      case 'stop':
        engine.stop();
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
