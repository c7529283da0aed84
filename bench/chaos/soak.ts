/**
 * The soak's figures (issue 18 item 4): a series of samples per process (resident set, V8 heap
 * used and committed, external memory, descriptors, sockets, event-loop delay), and per series
 * the growth after a warm-up as the least-squares slope, next to the targets (< 2 MB/h
 * resident, no descriptor growth). A process
 * a fault restarted comes back with another PID and starts a series of its own, so a restart
 * neither looks like a leak (the new process is smaller) nor hides one (each life is fitted
 * alone). Pure: samples in, rows and text out; the sampler (sampler.ts) takes the samples.
 */
import { summarize } from '../failover/measure.ts';
import { alignColumns } from './table.ts';

/** One reading of one process. */
export interface ProcessSample {
  /** What the process is in the lab: `speaker node-2`, `controller`, `bird`, ... */
  readonly role: string;
  readonly pid: number;
  /** Epoch ms. */
  readonly atMs: number;
  readonly rssBytes: number;
  /** The private part of it (RssAnon; process-read.ts says why it is the one that leaks). */
  readonly privateRssBytes?: number;
  readonly fds: number;
  readonly sockets: number;
  /** Our Node processes only (from their /metrics, or the runner's own). */
  readonly heapUsedBytes?: number;
  /** The V8 heap committed (process-read.ts's NodeStats); our Node processes only. */
  readonly heapTotalBytes?: number;
  /** Memory outside the V8 heap held by JavaScript objects; our Node processes only. */
  readonly externalBytes?: number;
  /** p99 of the event-loop delay since the previous sample (ms); our Node processes only. */
  readonly loopDelayP99Ms?: number;
}

/** All samples of one process (role and PID). */
export interface Series {
  readonly role: string;
  readonly pid: number;
  /** Why the targets do not apply to it (undefined: they do). */
  readonly note?: string;
  readonly samples: readonly ProcessSample[];
}

const HOUR_MS = 3_600_000;
const MB = 1024 * 1024;
/** Growth target of the private resident set (MB/h; the whole resident set where unknown). */
export const RSS_TARGET_MB_PER_H = 2;
/** Fewer samples than this after the warm-up fit no line worth reporting. */
export const MIN_FIT_SAMPLES = 3;

/** The series of a run, one per role and PID, in the order first seen. */
export class SoakBook {
  readonly #series = new Map<
    string,
    { role: string; pid: number; note?: string; samples: ProcessSample[] }
  >();

  /** Adds a sample to the series of its role and PID (a new PID of a role starts a new series). */
  add(sample: ProcessSample, note?: string): void {
    const key = `${sample.role}\u0000${sample.pid}`;
    let series = this.#series.get(key);
    if (!series) {
      series = { role: sample.role, pid: sample.pid, ...(note === undefined ? {} : { note }), samples: [] };
      this.#series.set(key, series);
    }
    const last = series.samples.at(-1);
    if (last !== undefined && sample.atMs <= last.atMs)
      throw new Error(
        `soak: sample of ${sample.role} pid ${sample.pid} at ${sample.atMs} is not after ${last.atMs}`,
      );
    series.samples.push(sample);
  }

  series(): Series[] {
    return [...this.#series.values()];
  }
}

/**
 * The least-squares slope of `value` over time, per hour; undefined with fewer than two points
 * or all at one time.
 */
export function slopePerHour(points: readonly { atMs: number; value: number }[]): number | undefined {
  const n = points.length;
  if (n < 2) return undefined;
  // Centred on the means: epoch milliseconds squared would lose precision.
  const meanT = points.reduce((s, p) => s + p.atMs, 0) / n;
  const meanV = points.reduce((s, p) => s + p.value, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const p of points) {
    sxx += (p.atMs - meanT) ** 2;
    sxy += (p.atMs - meanT) * (p.value - meanV);
  }
  return sxx === 0 ? undefined : (sxy / sxx) * HOUR_MS;
}

/**
 * The warm-up left out of the fit, from a series' first sample: 10 minutes, or a third of the
 * run when that is shorter (a short validation run still fits the rest).
 */
export function defaultWarmupMs(runMinutes: number): number {
  return Math.min(10 * 60_000, (runMinutes * 60_000) / 3);
}

/** One row of the soak table: one process's life. */
export interface SoakRow {
  readonly role: string;
  readonly pid: number;
  readonly note?: string;
  readonly samples: number;
  /** Samples after the warm-up, the ones fitted. */
  readonly fitted: number;
  /** Minutes the fitted samples span. */
  readonly fittedMinutes: number;
  readonly rssMb: number;
  /** Slopes after the warm-up, per hour; undefined when fewer than {@link MIN_FIT_SAMPLES} samples. */
  readonly rssMbPerH: number | undefined;
  /** The private resident set's slope (RssAnon), the one the target applies to. */
  readonly privateMbPerH: number | undefined;
  readonly heapMbPerH: number | undefined;
  /**
   * The heap committed and external memory, which show where private growth under a flat heap
   * used goes: V8 pages kept unused, or buffers outside the heap; neither, native allocations.
   */
  readonly heapTotalMbPerH: number | undefined;
  readonly externalMbPerH: number | undefined;
  readonly fds: number;
  readonly fdsPerH: number | undefined;
  readonly sockets: number;
  readonly socketsPerH: number | undefined;
  /** Per-sample event-loop delay p99 over all samples (ms): median and max; undefined when none. */
  readonly loopDelayP99Ms: { median: number; max: number } | undefined;
  /**
   * RSS slope under the target and no descriptor or socket growth (the fitted line rises by
   * less than one over the fitted span); undefined: too few samples, or the targets do not apply.
   */
  readonly met: boolean | undefined;
}

const slopeOf = (
  samples: readonly ProcessSample[],
  read: (s: ProcessSample) => number | undefined,
): number | undefined => {
  const points = samples.flatMap((s) => {
    const value = read(s);
    return value === undefined ? [] : [{ atMs: s.atMs, value }];
  });
  return points.length < MIN_FIT_SAMPLES ? undefined : slopePerHour(points);
};

const mb = (bytes: number | undefined): number | undefined => (bytes === undefined ? undefined : bytes / MB);

/** A row per series; slopes over the samples at least `warmupMs` after the series' first. */
export function soakRows(series: readonly Series[], options: { warmupMs: number }): SoakRow[] {
  return series.map((s) => {
    const first = s.samples[0];
    const last = s.samples.at(-1);
    if (first === undefined || last === undefined) throw new Error(`soak: series of ${s.role} is empty`);
    const after = s.samples.filter((x) => x.atMs - first.atMs >= options.warmupMs);
    const spanH = after.length > 1 ? ((after.at(-1)?.atMs ?? 0) - (after[0]?.atMs ?? 0)) / HOUR_MS : 0;
    const rssMbPerH = slopeOf(after, (x) => x.rssBytes / MB);
    const privateMbPerH = slopeOf(after, (x) => mb(x.privateRssBytes));
    const memoryMbPerH = privateMbPerH ?? rssMbPerH;
    const fdsPerH = slopeOf(after, (x) => x.fds);
    const socketsPerH = slopeOf(after, (x) => x.sockets);
    const delays = s.samples.flatMap((x) => (x.loopDelayP99Ms === undefined ? [] : [x.loopDelayP99Ms]));
    const delay = delays.length > 0 ? summarize(delays) : undefined;
    const grows = (perH: number) => perH * spanH >= 1;
    return {
      role: s.role,
      pid: s.pid,
      ...(s.note === undefined ? {} : { note: s.note }),
      samples: s.samples.length,
      fitted: after.length,
      fittedMinutes: spanH * 60,
      rssMb: last.rssBytes / MB,
      rssMbPerH,
      privateMbPerH,
      heapMbPerH: slopeOf(after, (x) => mb(x.heapUsedBytes)),
      heapTotalMbPerH: slopeOf(after, (x) => mb(x.heapTotalBytes)),
      externalMbPerH: slopeOf(after, (x) => mb(x.externalBytes)),
      fds: last.fds,
      fdsPerH,
      sockets: last.sockets,
      socketsPerH,
      loopDelayP99Ms: delay && { median: delay.median, max: delay.max },
      met:
        s.note !== undefined ||
        memoryMbPerH === undefined ||
        fdsPerH === undefined ||
        socketsPerH === undefined
          ? undefined
          : memoryMbPerH < RSS_TARGET_MB_PER_H && !grows(fdsPerH) && !grows(socketsPerH),
    };
  });
}

const num = (v: number | undefined, digits: number): string => (v === undefined ? '-' : v.toFixed(digits));

/** The soak table, printed after the chaos table. */
export function formatSoak(
  rows: readonly SoakRow[],
  options: { warmupMs: number; intervalMs: number },
): string {
  const lines = [
    `soak: a sample every ${Math.round(options.intervalMs / 1000)} s; slopes per hour by least squares over each process's samples from ${(options.warmupMs / 60_000).toFixed(1)} min after its first (a restarted process is a new row)`,
    `targets: private RSS (RssAnon; RSS where unknown) < ${RSS_TARGET_MB_PER_H} MB/h, no growth of descriptors or sockets (the fitted line rises by less than one over the fitted span)`,
    '',
  ];
  const header = [
    'process',
    'pid',
    'samples',
    'fitted',
    'RSS MB',
    'RSS MB/h',
    'private MB/h',
    'heap MB/h',
    'heap total MB/h',
    'external MB/h',
    'fds',
    'fds/h',
    'sockets',
    'sockets/h',
    'loop p99 ms',
    'met',
  ];
  const table = rows.map((r) => [
    r.role,
    String(r.pid),
    String(r.samples),
    `${r.fitted} (${r.fittedMinutes.toFixed(0)} min)`,
    r.rssMb.toFixed(1),
    num(r.rssMbPerH, 2),
    num(r.privateMbPerH, 2),
    num(r.heapMbPerH, 2),
    num(r.heapTotalMbPerH, 2),
    num(r.externalMbPerH, 2),
    String(r.fds),
    num(r.fdsPerH, 2),
    String(r.sockets),
    num(r.socketsPerH, 2),
    r.loopDelayP99Ms ? `${r.loopDelayP99Ms.median.toFixed(1)}/${r.loopDelayP99Ms.max.toFixed(1)}` : '-',
    r.met === undefined ? '-' : r.met ? 'yes' : 'NO',
  ]);
  lines.push(...alignColumns([header, ...table]));
  lines.push(
    'RSS = private (RssAnon) + pages of the executable and libraries touched so far (shared, clean, bounded by the files)',
    'heap = V8 heap used; heap total = committed (used + pages V8 keeps); external = buffers outside the heap held by JavaScript; private growth none of them shows is native (malloc)',
    "loop p99: the event-loop delay p99 of each sample (since the one before), median/max; Node's histogram samples every 20 ms and counts that period in, so an idle loop reads about 20-24 ms",
  );
  for (const r of rows.filter((x) => x.note !== undefined)) lines.push(`${r.role} (pid ${r.pid}): ${r.note}`);
  return lines.join('\n');
}
