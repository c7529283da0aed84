import { Agent, createServer, type IncomingMessage, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeClient } from '../../shared/k8s/client.ts';

/**
 * A forwarding HTTP proxy in front of the embedded API server, for fault tests that need
 * something to happen at an exact point of a client's conversation. Every request and response
 * (watch streams included) passes through unchanged; answers come from the real server.
 * `before` runs before a matching request is forwarded, so a test can, say, change an object
 * between the controller's read and its conditional write, deterministically; `refuse` answers
 * matching requests itself with an error, as a failing API server would; `stall` and `delay` hold
 * them, as a cut network or a slow server would.
 */
type Match = (method: string, path: string) => boolean;
/** What becomes of a held request: forwarded, dropped, or forwarded if its client still waits. */
type Verdict = 'forward' | 'drop' | 'ifWaiting';
interface Hold {
  readonly match: Match;
  readonly ms: number;
  active: boolean;
  held: number;
  readonly waiting: Set<(verdict: Verdict) => void>;
}

/** A stall in progress (see ForwardingProxy.stall). */
export interface Stall {
  /** Requests held so far. */
  readonly held: number;
  /** Delivers the held requests whose clients still wait; those whose clients gave up are dropped. */
  release(): void;
}

export interface ForwardingProxy {
  readonly url: string;
  /** A client talking to the API server through the proxy. */
  readonly client: KubeClient;
  /** Runs `action` once, before forwarding the first request for which `match` is true. */
  before(match: (method: string, path: string) => boolean, action: () => Promise<void>): void;
  /**
   * Answers the next `times` requests for which `match` is true with HTTP `status` and a Status
   * object, without forwarding them.
   */
  refuse(match: (method: string, path: string) => boolean, status: number, times: number): void;
  /**
   * Holds every matching request until `release()`, as a network that stops carrying a
   * replica's traffic: a request whose client gives up meanwhile is never delivered (as data
   * unacknowledged when its sender resets the connection). Streams already open go on.
   */
  stall(match: Match): Stall;
  /**
   * Delivers each matching request `ms` late, whether or not its client still waits, as a slow
   * API server that still applies what reaches it late (`Infinity`: never delivered). `end()`
   * stops delaying new requests and drops the ones held forever.
   */
  delay(match: Match, ms: number): { end(): void };
  /** Requests so far, with the status code answered (refused ones included; 0: dropped). */
  readonly log: { method: string; path: string; status: number }[];
  close(): Promise<void>;
}

export async function startProxy(upstream: string): Promise<ForwardingProxy> {
  const target = new URL(upstream);
  const hooks: { match: (method: string, path: string) => boolean; action: () => Promise<void> }[] = [];
  const refusals: { match: (method: string, path: string) => boolean; status: number; left: number }[] = [];
  const log: ForwardingProxy['log'] = [];
  /** Stalls (ms 0: until released) and delays; `waiting` holds the requests they keep. */
  const holds: Hold[] = [];
  const addHold = (match: Match, ms: number): Hold => {
    const hold: Hold = { match, ms, active: true, held: 0, waiting: new Set() };
    holds.push(hold);
    return hold;
  };
  const endHold = (hold: Hold, verdict: Verdict): void => {
    hold.active = false;
    for (const resolve of hold.waiting) resolve(verdict);
    hold.waiting.clear();
  };
  const timers = new Set<NodeJS.Timeout>();
  // Its own agent, so closing the proxy closes its kept-alive upstream connections too.
  const agent = new Agent({ keepAlive: true });

  const server = createServer(async (req, res) => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const body = await readBody(req);
    const pathname = path.split('?')[0]!;
    const refusal = refusals.find((r) => r.left > 0 && r.match(method, pathname));
    if (refusal) {
      refusal.left--;
      log.push({ method, path, status: refusal.status });
      const status = { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: refusal.status };
      res
        .writeHead(refusal.status, { 'content-type': 'application/json' })
        .end(JSON.stringify({ ...status, message: 'refused by the test proxy', reason: 'InternalError' }));
      return;
    }
    const hold = holds.find((h) => h.active && h.match(method, pathname));
    if (hold) {
      let gone = false;
      res.once('close', () => {
        gone = !res.writableFinished;
      });
      hold.held++;
      const verdict = await new Promise<Verdict>((resolve) => {
        hold.waiting.add(resolve);
        if (hold.ms === 0 || !Number.isFinite(hold.ms)) return;
        const timer = setTimeout(() => {
          timers.delete(timer);
          hold.waiting.delete(resolve);
          resolve('forward');
        }, hold.ms);
        timers.add(timer);
      });
      if (verdict === 'drop' || (verdict === 'ifWaiting' && gone)) {
        log.push({ method, path, status: 0 });
        res.destroy();
        return;
      }
    }
    const hook = hooks.findIndex((h) => h.match(method, pathname));
    if (hook >= 0) {
      const [{ action }] = hooks.splice(hook, 1) as [(typeof hooks)[number]];
      await action();
    }
    const upstreamRequest = request(
      { host: target.hostname, port: target.port, method, path, headers: req.headers, agent },
      (upstreamResponse) => {
        log.push({ method, path, status: upstreamResponse.statusCode ?? 0 });
        if (res.destroyed) {
          // Delivered late to a client that gave up: the server applied it; nobody reads the answer.
          upstreamResponse.resume();
          return;
        }
        res.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
        // A watch answers its headers long before any event: pass them on at once.
        res.flushHeaders();
        upstreamResponse.pipe(res);
      },
    );
    upstreamRequest.on('error', () => res.destroy());
    // A client that goes away (an informer stopping its watch) ends the upstream request too.
    res.on('close', () => {
      if (!res.writableFinished) upstreamRequest.destroy();
    });
    upstreamRequest.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    client: new KubeClient({
      server: new URL(url),
      tls: { rejectUnauthorized: true },
      headers: async () => ({}),
    }),
    log,
    before(match, action) {
      hooks.push({ match, action });
    },
    refuse(match, status, times) {
      refusals.push({ match, status, left: times });
    },
    stall(match) {
      const hold = addHold(match, 0);
      return {
        get held() {
          return hold.held;
        },
        release: () => endHold(hold, 'ifWaiting'),
      };
    },
    delay(match, ms) {
      const hold = addHold(match, ms);
      return { end: () => endHold(hold, 'drop') };
    },
    close() {
      for (const timer of timers) clearTimeout(timer);
      for (const hold of holds) endHold(hold, 'drop');
      server.closeAllConnections();
      agent.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
