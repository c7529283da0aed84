import { renderStatusText } from './render.ts';
import type { StatusReport } from './report.ts';

/** How one frame of `metalbeacon status --watch` is drawn. */
export interface FrameOptions {
  /** The clock (ms since the epoch): the ages in the tables and the frame's time. */
  readonly nowMs: number;
  /** A terminal redraws one screen in place; a pipe or file gets one frame after another. */
  readonly terminal: boolean;
  /** Terminal width (Infinity for a pipe). */
  readonly width: number;
  /** Lists or watches that are failing, as "what: why", shown above the report. */
  readonly trouble: readonly string[];
}

/** Cursor home and clear the screen: the next frame replaces this one. */
export const CLEAR_SCREEN = '\x1b[H\x1b[2J';

/**
 * One frame: a header with the time (and what is failing, so a stale view says it is stale),
 * then the same tables as `metalbeacon status`.
 */
export function watchFrame(report: StatusReport, options: FrameOptions): string {
  const time = new Date(options.nowMs).toISOString().replace(/\.\d+Z$/, 'Z');
  const header = options.terminal
    ? `${CLEAR_SCREEN}metalbeacon status --watch   ${time}   Ctrl-C to stop`
    : `--- ${time}`;
  const trouble = options.trouble.map((t) => `! not current: ${t}; retrying`);
  const body = renderStatusText(report, { nowMs: options.nowMs, width: options.width });
  return `${[header, ...trouble].join('\n')}\n\n${body}`;
}

/** One line of `-o json --watch`: the report as a single-line JSON document. */
export function watchJsonLine(report: StatusReport): string {
  return `${JSON.stringify(report)}\n`;
}

/** The last failure of one cache: what failed, why, when. */
export interface Failure {
  readonly message: string;
  readonly atMs: number;
}

/**
 * The failures to show: a failing list or watch is retried every second or so and fails again
 * while the API server is unreachable, so a failure not repeated within `windowMs` is over.
 */
export function currentTrouble(
  failures: ReadonlyMap<string, Failure>,
  nowMs: number,
  windowMs: number,
): string[] {
  return [...failures]
    .filter(([, f]) => nowMs - f.atMs <= windowMs)
    .map(([what, f]) => `${what}: ${f.message}`)
    .sort();
}
