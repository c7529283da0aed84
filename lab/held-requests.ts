import { fileURLToPath } from 'node:url';
import { spawnJsonLines } from './json-lines-child.ts';

/** How one held request ended. */
export interface HeldResult {
  /** The client's source port (the flow's identity for the router's hash). */
  port: number;
  ok: boolean;
  status?: number;
  /** The ingress stand-in's answer: the node that served it. */
  body?: string;
  /** Why it failed: `ECONNRESET`, `timeout`, … */
  error?: string;
}

/** Requests held open by {@link startHeldRequests}. */
export interface HeldRequests {
  /** Completes every request and resolves with how each one ended. */
  finish(): Promise<HeldResult[]>;
  /** Ends the client process (also when `finish` was never called). */
  stop(): Promise<void>;
}

const CHILD = fileURLToPath(new URL('./held-requests-child.ts', import.meta.url));

/**
 * Opens `count` connections from inside `namespace` to `ip`:`port` (default 80), each with an
 * HTTP request sent but for its last line, and keeps them so until `finish()`: requests in
 * flight across whatever the caller does meanwhile (a rolling restart, a route change).
 */
export async function startHeldRequests(options: {
  namespace: string;
  ip: string;
  port?: number;
  count: number;
}): Promise<HeldRequests> {
  const results: HeldResult[] = [];
  let opened = false;
  const child = spawnJsonLines(
    options.namespace,
    [CHILD, options.ip, String(options.port ?? 80), String(options.count)],
    (line) => {
      if ('ready' in line) opened = true;
      else results.push(line as unknown as HeldResult);
    },
  );
  const ready = await child.until(() => opened);
  if (!ready) throw new Error(`held requests: client in ${options.namespace} exited: ${child.stderr()}`);
  return {
    async finish() {
      child.write('finish\n');
      await child.exited;
      if (results.length !== options.count) {
        throw new Error(`held requests: ${results.length} of ${options.count} results: ${child.stderr()}`);
      }
      return results;
    },
    stop: () => child.stop(),
  };
}
