import { analyzeProbe, type Probe } from '../../lab/probe.ts';

/** One failover measurement. */
export interface FailoverSample {
  /** Client-observed outage (ms): first failed request to the first good one after it. */
  outageMs: number;
  lost: number;
  /** Answering nodes in order (before → after). */
  servers: string[];
}

/**
 * Cuts (via `cut`) while `probe` runs, waits until the client is served again
 * (`goodInARow` consecutive good requests after the cut) and reports the worst outage in the
 * window starting just before the cut. Throws when the client is not served again in time.
 */
export async function measureFailover(
  probe: Probe,
  cut: () => Promise<void>,
  options: { recoverTimeoutMs?: number; goodInARow?: number } = {},
): Promise<FailoverSample> {
  await probe.waitForGood(10, { from: Date.now(), timeoutMs: 15_000 });
  const before = Date.now();
  await cut();
  const after = Date.now();
  await probe.waitForGood(options.goodInARow ?? 25, {
    from: after,
    timeoutMs: options.recoverTimeoutMs ?? 30_000,
  });
  const report = analyzeProbe(probe.records(), { from: before - 20 });
  if (report.worstOutageMs === undefined) throw new Error('failover: the client was not served again');
  return { outageMs: report.worstOutageMs, lost: report.lost, servers: report.servers };
}

/** Median and max of a series. */
export function summarize(values: readonly number[]): { median: number; max: number; n: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return { median: Number.NaN, max: Number.NaN, n };
  const mid = Math.floor(n / 2);
  const median =
    n % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { median, max: sorted[n - 1] as number, n };
}
