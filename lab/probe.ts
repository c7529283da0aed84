import { fileURLToPath } from 'node:url';
import { spawnJsonLines } from './json-lines-child.ts';

/** One finished request of the probe (times in epoch milliseconds). */
export interface ProbeRecord {
  seq: number;
  start: number;
  end: number;
  ok: boolean;
  /** HTTP status, when a response came. */
  status?: number;
  /** The response body, trimmed (the stand-in answers with its node name, nginx's backends `app-a on node-1`). */
  body?: string;
  /** Why it failed: `timeout`, `ECONNREFUSED`, `ECONNRESET`, … */
  error?: string;
  /** A timeout: whether the TCP connection was up (no: the SYN or its answer was lost; yes: no answer in time). */
  connected?: boolean;
  /**
   * How long the probe process itself stood still (not scheduled) while the request ran; its
   * bound counts only the time it ran (probe-child.ts). Absent when it did not stall.
   */
  stalledMs?: number;
}

/** A span in which the client was not served. */
export interface Outage {
  /** Start of the first failed request. */
  start: number;
  /** End of the first good request started at or after `start`; undefined if none came. */
  end: number | undefined;
  /** `end - start`, or undefined when the client was never served again. */
  ms: number | undefined;
  /** Failed requests started within the outage. */
  lost: number;
}

/** What the probe saw in a window. */
export interface ProbeReport {
  requests: number;
  ok: number;
  /** Failed requests (timeouts, refused, reset, non-2xx). */
  lost: number;
  outages: Outage[];
  /** The longest outage (ms); 0 when nothing failed; undefined when the last outage never ended. */
  worstOutageMs: number | undefined;
  /** Good answers per body (node name). */
  answeredBy: Record<string, number>;
  /** Bodies of good answers in request order, consecutive repeats collapsed (e.g. node-1, node-2). */
  servers: string[];
}

/**
 * Outages and lost requests out of probe records. An outage runs from the start of the first
 * failed request to the END of the first good request started after it (a request that was
 * held back, e.g. waiting for ARP resolution, only ends the outage when it is answered); the
 * next failure starting after that end opens a new outage. `from`/`to` select records by start.
 */
export function analyzeProbe(
  records: readonly ProbeRecord[],
  window: { from?: number; to?: number } = {},
): ProbeReport {
  const from = window.from ?? Number.NEGATIVE_INFINITY;
  const to = window.to ?? Number.POSITIVE_INFINITY;
  const selected = records.filter((r) => r.start >= from && r.start <= to).sort((a, b) => a.seq - b.seq);
  const outages: Outage[] = [];
  const answeredBy: Record<string, number> = {};
  const servers: string[] = [];
  let ok = 0;
  for (const r of selected) {
    if (!r.ok) continue;
    ok++;
    const body = r.body ?? '';
    answeredBy[body] = (answeredBy[body] ?? 0) + 1;
    if (servers.at(-1) !== body) servers.push(body);
  }
  const failed = selected.filter((r) => !r.ok);
  const good = selected.filter((r) => r.ok);
  let i = 0;
  while (i < failed.length) {
    const first = failed[i] as ProbeRecord;
    let end: number | undefined;
    for (const g of good) {
      if (g.start >= first.start && (end === undefined || g.end < end)) end = g.end;
    }
    let lost = 0;
    while (i < failed.length && (end === undefined || (failed[i] as ProbeRecord).start < end)) {
      lost++;
      i++;
    }
    outages.push({ start: first.start, end, ms: end === undefined ? undefined : end - first.start, lost });
  }
  let worstOutageMs: number | undefined = 0;
  for (const o of outages) {
    if (o.ms === undefined) worstOutageMs = undefined;
    else if (worstOutageMs !== undefined) worstOutageMs = Math.max(worstOutageMs, o.ms);
  }
  return { requests: selected.length, ok, lost: failed.length, outages, worstOutageMs, answeredBy, servers };
}

/** A running probe. */
export interface Probe {
  /** Records so far (finished requests only). */
  records(): ProbeRecord[];
  /** Report over the records started at or after `from` (epoch ms), default all. */
  report(from?: number): ProbeReport;
  /** Resolves once `count` consecutive requests started at or after `from` were good. */
  waitForGood(count: number, options?: { from?: number; timeoutMs?: number }): Promise<ProbeRecord[]>;
  /** Stops sending, waits for the requests in flight and the process; returns every record. */
  stop(): Promise<ProbeRecord[]>;
  /** Everything the child wrote on stderr (diagnostics). */
  stderr(): string;
  /** The client process's ID (tests stop it to stand for a loaded machine). */
  readonly pid: number | undefined;
}

/** Options of {@link startProbe}. */
export interface ProbeOptions {
  /** Full name of the client's network namespace. */
  namespace: string;
  /** e.g. `http://198.51.100.10/` or `http://[2001:db8:100::10]/`. */
  url: string;
  /** Default 20 ms. */
  intervalMs?: number;
  /**
   * Per-request bound, default 500 ms (below the 1 s TCP SYN retransmission), on the time the
   * probe process ran: its own stalls on a loaded machine do not count (probe-child.ts).
   */
  timeoutMs?: number;
}

const CHILD = fileURLToPath(new URL('./probe-child.ts', import.meta.url));

/**
 * Starts the client probe as one Node process inside the client namespace: an HTTP GET every
 * 20 ms on a fresh connection, each result logged with its timestamps. Resolves once the
 * child is running. Always `stop()` it (also on failure).
 */
export async function startProbe(options: ProbeOptions): Promise<Probe> {
  const records: ProbeRecord[] = [];
  let ready = false;
  const child = spawnJsonLines(
    options.namespace,
    [CHILD, options.url, String(options.intervalMs ?? 20), String(options.timeoutMs ?? 500)],
    (line) => {
      if ('ready' in line) ready = true;
      else records.push(line as unknown as ProbeRecord);
    },
  );
  const stop = async (): Promise<ProbeRecord[]> => {
    await child.stop();
    return [...records].sort((a, b) => a.seq - b.seq);
  };
  const started = await child.until(() => ready);
  if (!started)
    throw new Error(`probe: client process in ${options.namespace} exited at start: ${child.stderr()}`);
  return {
    records: () => [...records],
    report: (from) => analyzeProbe(records, { from }),
    async waitForGood(count, { from = 0, timeoutMs = 10_000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const recent = records.filter((r) => r.start >= from).sort((a, b) => a.seq - b.seq);
        let firstOfRun = 0;
        recent.forEach((r, i) => {
          if (!r.ok) firstOfRun = i + 1;
        });
        if (recent.length - firstOfRun >= count) return recent.slice(firstOfRun);
        if (!child.running()) throw new Error(`probe: client process exited: ${child.stderr()}`);
        if (Date.now() > deadline) {
          const last = recent.slice(-3).map((r) => r.error ?? r.body ?? r.status);
          throw new Error(
            `probe: no ${count} consecutive good requests to ${options.url} within ${timeoutMs} ms (last: ${JSON.stringify(last)})`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    stop,
    stderr: () => child.stderr(),
    pid: child.pid,
  };
}
