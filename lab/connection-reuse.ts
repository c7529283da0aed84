import type { KubeConfig } from '@kubernetes/client-node';

/**
 * @kubernetes/client-node 2.0 builds a new undici Agent for every request whenever TLS options
 * exist (a CA, a client certificate, or insecure-skip-tls-verify), so no connection is ever
 * reused: each call pays a TCP (and TLS) handshake and leaves an Agent for the GC. With
 * thousands of status writes that costs most of the CPU and hundreds of MB of memory. This
 * makes one KubeConfig hand out one Agent per cluster server, reused by every client made
 * from it (undici keeps connections alive and pipelines per origin).
 */
export function reuseConnections(kc: KubeConfig): KubeConfig {
  // createDispatcher is private in the typings; it is the one seam the library offers.
  const target = kc as unknown as {
    createDispatcher: (cluster: { server?: string } | null, options: unknown) => unknown;
  };
  const original = target.createDispatcher.bind(kc);
  /** cluster server -> its dispatcher */
  const cache = new Map<string, unknown>();
  target.createDispatcher = (cluster, options) => {
    const key = cluster?.server ?? '';
    if (!cache.has(key)) cache.set(key, original(cluster, options));
    return cache.get(key);
  };
  return kc;
}
