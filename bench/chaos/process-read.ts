/**
 * What the soak reads about one process of the lab, from text the sampler fetched: the resident
 * set from /proc/PID/status, descriptors and sockets from the targets of /proc/PID/fd/*, the V8
 * heap (used and committed), external memory and event-loop delay from a /metrics page, and where a daemon serves /metrics from its
 * log. Pure: the sampler (sampler.ts) does the reading.
 */

/** Resident set size (bytes) from the text of /proc/PID/status; undefined without a VmRSS line. */
export function statusRssBytes(status: string): number | undefined {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  return match ? Number(match[1]) * 1024 : undefined;
}

/**
 * The private part of the resident set (bytes, `RssAnon` of /proc/PID/status): what the process
 * itself allocated. The rest (`RssFile`, `RssShmem`) is mostly the pages of the node executable
 * and its libraries that code has touched so far: shared by every process running them, clean
 * (the kernel drops and rereads them), bounded by the files' sizes, and growing each time a new
 * path of the program first runs. Undefined without the line (kernels before 4.5).
 */
export function statusPrivateRssBytes(status: string): number | undefined {
  const match = /^RssAnon:\s+(\d+) kB$/m.exec(status);
  return match ? Number(match[1]) * 1024 : undefined;
}

/** Open descriptors and, of them, sockets, from the link targets of /proc/PID/fd/* (`socket:[123]`). */
export function countDescriptors(targets: readonly string[]): { fds: number; sockets: number } {
  return { fds: targets.length, sockets: targets.filter((t) => /^socket:\[\d+\]$/.test(t)).length };
}

/**
 * The value of an unlabelled sample of `name` in Prometheus text (`name 123` or `name 1.5e+06`,
 * optionally with a timestamp); undefined when absent or not a finite number.
 */
export function metricValue(text: string, name: string): number | undefined {
  for (const line of text.split('\n')) {
    const [metric, value] = line.trim().split(/\s+/);
    if (metric !== name || value === undefined) continue;
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** What a Node process of ours reports about itself, read from its /metrics page. */
export interface NodeStats {
  readonly heapUsedBytes?: number;
  /**
   * The V8 heap committed (used, plus pages V8 keeps for the next allocations): private memory
   * that a flat heap used can hide when V8 grows its spaces without filling them.
   */
  readonly heapTotalBytes?: number;
  /**
   * Memory outside the V8 heap that JavaScript objects hold (Buffers, ArrayBuffers, TLS and
   * zlib state Node reports to V8): the next suspect when private memory grows and the heap not.
   */
  readonly externalBytes?: number;
  /** p99 of the event-loop delay since the previous scrape (the histogram restarts per scrape). */
  readonly loopDelayP99Ms?: number;
}

/** Heap used and committed, external memory and event-loop delay p99 from a /metrics page (shared/metrics/process-metrics.ts's names). */
export function nodeStatsOf(metrics: string): NodeStats {
  const heap = metricValue(metrics, 'nodejs_heap_size_used_bytes');
  const total = metricValue(metrics, 'nodejs_heap_size_total_bytes');
  const external = metricValue(metrics, 'nodejs_external_memory_bytes');
  const p99 = metricValue(metrics, 'nodejs_eventloop_lag_p99_seconds');
  return {
    ...(heap === undefined ? {} : { heapUsedBytes: heap }),
    ...(total === undefined ? {} : { heapTotalBytes: total }),
    ...(external === undefined ? {} : { externalBytes: external }),
    ...(p99 === undefined ? {} : { loopDelayP99Ms: p99 * 1000 }),
  };
}

/**
 * The address (`127.0.0.1:40123`) a daemon's JSON log says it serves /metrics on (the line
 * `serving /metrics, /healthz, /readyz` with an `address` field); the last one wins.
 */
export function metricsAddressOf(log: string): string | undefined {
  let address: string | undefined;
  for (const line of log.split('\n')) {
    if (!line.includes('serving /metrics')) continue;
    try {
      const value = (JSON.parse(line) as { address?: unknown }).address;
      if (typeof value === 'string' && /^[\w.:[\]-]+:\d+$/.test(value)) address = value;
    } catch {
      // Not a JSON line (a stack trace, a pretty log): not ours to read.
    }
  }
  return address;
}
