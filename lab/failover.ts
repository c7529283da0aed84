/**
 * What a client saw during a failover, from the prober's lines (`prober.ts`): pure, so the
 * lab, tests and benchmarks agree on one definition of "served again".
 */

/** One request of the prober: wall-clock epoch ms with sub-ms resolution. */
export interface Probe {
  start: number;
  end: number;
  ok: boolean;
  /** Response body (the stand-in answers its node name, nginx's backends `app-a on node-1`). */
  body?: string;
  error?: string;
}

/** Parses the prober's JSON lines; partial or foreign lines are skipped. */
export function parseProbes(output: string): Probe[] {
  const probes: Probe[] = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const p = JSON.parse(line) as Partial<Probe>;
      if (typeof p.start === 'number' && typeof p.end === 'number' && typeof p.ok === 'boolean') {
        probes.push(p as Probe);
      }
    } catch {
      // A line still being written.
    }
  }
  return probes;
}

/** The client's view of one failover. */
export interface FailoverOutcome {
  /** From the cut to the end of the first request served by another node (ms). */
  servedAgainMs: number;
  /** The node that served it. */
  servedBy: string;
  /** Requests started after the cut and before that one that failed. */
  failedRequests: number;
}

/**
 * The first request started at or after `cutAtMs` that succeeded from a node other than the
 * cut `owner` (a request started just before the cut may still be answered by the owner),
 * and how many failed before it; undefined while the client has not been served again.
 */
export function analyzeFailover(
  probes: readonly Probe[],
  cutAtMs: number,
  owner: string,
): FailoverOutcome | undefined {
  const sorted = [...probes].sort((a, b) => a.start - b.start);
  const back = sorted.find((p) => p.start >= cutAtMs && p.ok && p.body !== owner);
  if (!back) return undefined;
  return {
    servedAgainMs: back.end - cutAtMs,
    servedBy: back.body ?? '',
    failedRequests: sorted.filter((p) => p.start >= cutAtMs && p.start < back.start && !p.ok).length,
  };
}

/** The client's view of a failover where new flows spread over several nodes (ECMP). */
export interface EcmpFailoverOutcome {
  /**
   * From the cut to the start of the first request after the last one that failed: until then,
   * new flows hashed to the lost node failed; from then on every new flow is served (ms).
   */
  outageMs: number;
  /** Requests started after the cut that failed. */
  failedRequests: number;
}

/**
 * What the flows hashed to a lost node saw: only they fail, mixed with good ones to the other
 * nodes, until the router stops sending new flows there. Undefined while the last request
 * started after the cut failed (not served again yet). 0 when none failed.
 */
export function analyzeEcmpFailover(
  probes: readonly Probe[],
  cutAtMs: number,
): EcmpFailoverOutcome | undefined {
  const after = probes.filter((p) => p.start >= cutAtMs).sort((a, b) => a.start - b.start);
  const lastFailed = after.findLastIndex((p) => !p.ok);
  if (lastFailed < 0) return { outageMs: 0, failedRequests: 0 };
  const next = after[lastFailed + 1];
  if (!next) return undefined;
  return { outageMs: next.start - cutAtMs, failedRequests: after.filter((p) => !p.ok).length };
}
