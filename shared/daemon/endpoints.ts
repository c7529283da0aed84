import type { AddressInfo } from 'node:net';
import type { Registry } from '../metrics/metrics.ts';
import { http } from '../runtime/http.ts';
import { formatHostPort, type HostPort, parseHostPort } from './host-port.ts';

export interface EndpointsOptions {
  /** `HOST:PORT` text (host-port.ts) or an address already parsed. */
  readonly listen: string | HostPort;
  readonly registry: Registry;
  /** What /readyz answers; default: always ready. /healthz is 200 while the process serves at all. */
  readonly ready?: () => boolean;
  /** Told of the server's errors once it listens (accept(2) failing: EMFILE, ...); they end nothing. */
  readonly onError?: (error: Error) => void;
}

/** A listening endpoints server. */
export interface EndpointsServer {
  /** Where it listens, `HOST:PORT` (IPv6 in brackets); the real port when 0 was asked for. */
  readonly address: string;
  close(): Promise<void>;
}

const NOT_FOUND = 'not found: try /metrics, /healthz or /readyz\n';

/**
 * The one HTTP server of every program: Prometheus /metrics, /healthz (liveness) and /readyz
 * (readiness). Resolves once listening; rejects with a HostPortError for bad text, or with the
 * listen error (its `code`: EADDRINUSE, EADDRNOTAVAIL, EACCES) for the caller to explain.
 */
export async function serveEndpoints(options: EndpointsOptions): Promise<EndpointsServer> {
  const { registry } = options;
  const ready = options.ready ?? (() => true);
  const at = typeof options.listen === 'string' ? parseHostPort(options.listen) : options.listen;
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      const ok = ready();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'not ready\n');
    } else if (path === '/metrics') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (error: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(error)}\n`),
      );
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(NOT_FOUND);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => options.onError?.(error));
  const bound = server.address() as AddressInfo;
  return {
    address: formatHostPort(bound.address, bound.port),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
