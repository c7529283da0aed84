/**
 * Runs the session-level fuzzer: lanes side by side (each a real session over loopback TCP),
 * N messages in all, and the counts that matter: process exits (an exception or rejection
 * nothing handled, which ends the speaker in production), hangs over 50 ms (a unit of the
 * speaker's work, a socket event or an FSM event, that took more than 50 ms of CPU time beyond
 * what garbage collection and the whole process being stopped account for; no answer at all; a
 * session that did not come back) and verdicts that differ from the RFC table.
 * How long answers took (they wait for the other lanes' work too) and the longest turn of the
 * event loop (everything in the process) are printed beside them.
 */
import { pino } from 'pino';
import { BgpListener } from '../../speaker/bgp/listener.ts';
import { Canary, overlapMs } from './canary.ts';
import { Lane, type Outcome, type Reconnect } from './lane.ts';
import { LANE_CONFIGS } from './lanes.ts';
import type { LaneState } from './oracle.ts';
import { Poller } from './poller.ts';
import { RULES, type RuleId } from './rules.ts';
import { SpeakerCpu } from './speaker-cpu.ts';
import { describeVerdict, matches } from './verdict.ts';

/** The limit of RFC-unrelated slowness the fuzzer tolerates: none above this. */
export const HANG_MS = 50;

export interface FuzzOptions {
  readonly messages: number;
  readonly seed: number;
  readonly lanes: number;
  /** Called now and then with the messages done so far. */
  readonly progress?: (done: number) => void;
}

/** A verdict that differed, with what is needed to replay it. */
export interface Mismatch {
  readonly lane: number;
  readonly state: LaneState;
  readonly label: string;
  readonly expected: string;
  readonly observed: string;
  readonly rules: readonly RuleId[];
  /** The message, hex (cut to its first 512 octets). */
  readonly hex: string;
}

export interface FuzzReport {
  readonly seed: number;
  readonly lanes: number;
  readonly messages: number;
  readonly byState: Readonly<Record<LaneState, number>>;
  /** Exceptions or rejections that reached the process (each would end it in production). */
  readonly exits: number;
  readonly exitErrors: readonly string[];
  /** The speaker's work units over HANG_MS of CPU time; messages with no answer; sessions that did not come back. */
  readonly hangs: number;
  readonly hangDetails: readonly string[];
  readonly wrongVerdicts: number;
  readonly mismatches: readonly Mismatch[];
  /** Session resets after an internal error (a bug in the session; also a wrong verdict). */
  readonly internalErrors: readonly string[];
  /** rule → messages it decided, and how many of those differed. */
  readonly rules: ReadonlyMap<RuleId, { messages: number; wrong: number }>;
  readonly reconnects: number;
  readonly answerCpuMs: { readonly max: number; readonly p99: number };
  readonly answerWallMs: { readonly max: number; readonly p99: number; readonly over50: number };
  readonly maxTurnCpuMs: number;
  /** Event-loop turns over HANG_MS of CPU, everything in the process counted (8 lanes, the fuzzer, GC). */
  readonly loopTurnsOver: number;
  /** Those of them in a window the canary thread could not wake either (the process stopped). */
  readonly loopTurnsStopped: number;
  /** The longest unit of the speaker's work (a socket or FSM event), CPU ms. */
  readonly maxSpeakerCpuMs: number;
  /** The speaker's units of work over HANG_MS as measured, and what explains each (GC, the process stopped). */
  readonly slowSpeakerUnits: number;
  readonly slowSpeakerDetails: readonly string[];
  readonly durationSec: number;
  /** Peak resident set of the process (speaker and fuzzer together), MB. */
  readonly maxRssMb: number;
  /** The lanes' digests: equal for runs of equal seed, size and lanes (reproducibility). */
  readonly digest: string;
}

const KEEP_MISMATCHES = 40;

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.subarray(0, 512)).toString('hex');
}

/** Percentile of a sample kept in a fixed-size histogram of 0.1 ms buckets up to 1 s. */
class Latency {
  private readonly buckets = new Uint32Array(10_001);
  private count = 0;
  max = 0;

  add(ms: number): void {
    this.buckets[Math.min(10_000, Math.floor(ms * 10))]!++;
    this.count++;
    this.max = Math.max(this.max, ms);
  }

  percentile(p: number): number {
    let want = Math.ceil(this.count * p);
    for (let i = 0; i < this.buckets.length; i++) {
      want -= this.buckets[i]!;
      if (want <= 0) return i / 10;
    }
    return this.max;
  }
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const started = performance.now();
  const exitErrors: string[] = [];
  const onEscape = (error: unknown) => {
    exitErrors.push(error instanceof Error ? (error.stack ?? error.message) : String(error));
  };
  process.on('uncaughtException', onEscape);
  process.on('unhandledRejection', onEscape);

  const internalErrors: string[] = [];
  const logger = pino(
    { level: 'error' },
    {
      write: (line: string) => {
        const entry = JSON.parse(line) as { msg?: string; err?: { stack?: string } };
        if (internalErrors.length < 10) internalErrors.push(`${entry.msg}: ${entry.err?.stack ?? ''}`);
      },
    },
  );
  const poller = new Poller(HANG_MS);
  poller.start();
  const laneOf = new Map<unknown, Lane>();
  const speakerCpu = new SpeakerCpu(HANG_MS, (session) => {
    const lane = laneOf.get(session);
    return lane ? `lane ${lane.index}, last sent: ${lane.inFlight}` : 'not a lane';
  });
  speakerCpu.install();
  const canary = new Canary(20);
  // The speaker's listener, for the peers' second connections (collisions, restarts).
  const listener = new BgpListener({ logger });
  await listener.listen(0, '127.0.0.1');
  const lanes = Array.from(
    { length: options.lanes },
    (_, i) => new Lane(i, LANE_CONFIGS[i % LANE_CONFIGS.length]!, options.seed, poller, listener.port),
  );
  const byState: Record<LaneState, number> = { OpenSent: 0, OpenConfirm: 0, Established: 0 };
  const rules = new Map<RuleId, { messages: number; wrong: number }>(
    (Object.keys(RULES) as RuleId[]).map((r) => [r, { messages: 0, wrong: 0 }]),
  );
  const mismatches: Mismatch[] = [];
  const hangDetails: string[] = [];
  let wrongVerdicts = 0;
  let hangs = 0;
  let reconnects = 0;
  let done = 0;
  const cpu = new Latency();
  const wall = new Latency();
  let over50 = 0;

  const report = (o: Outcome) => {
    done++;
    byState[o.state]++;
    cpu.add(o.cpuMs);
    wall.add(o.wallMs);
    if (o.wallMs > HANG_MS) over50++;
    const ok = o.observed !== undefined && matches(o.expected, o.observed);
    for (const r of o.expected.rules) {
      const row = rules.get(r)!;
      row.messages++;
      if (!ok) row.wrong++;
    }
    if (o.observed === undefined) {
      hangs++;
      if (hangDetails.length < KEEP_MISMATCHES) {
        hangDetails.push(`lane ${o.lane} ${o.state} ${o.label}: no answer (${o.wallMs.toFixed(1)} ms wall)`);
      }
    }
    if (!ok && o.observed !== undefined) {
      wrongVerdicts++;
      if (mismatches.length < KEEP_MISMATCHES) {
        mismatches.push({
          lane: o.lane,
          state: o.state,
          label: o.label,
          expected: [
            ...(o.expected.anyKept ? ['kept'] : []),
            ...o.expected.verdicts.map(describeVerdict),
          ].join(' or '),
          observed: describeVerdict(o.observed),
          rules: o.expected.rules,
          hex: hex(o.bytes),
        });
      }
    }
    if (done % 10_000 === 0) options.progress?.(done);
  };
  const reconnected = (r: Reconnect) => {
    reconnects++;
    if (!r.ok) {
      hangs++;
      if (hangDetails.length < KEEP_MISMATCHES) {
        hangDetails.push(`lane ${r.lane}: the session did not come back (${r.wallMs.toFixed(1)} ms wall)`);
      }
    }
  };
  // Each lane its share, so what a lane sends depends on the seed alone, not on timing.
  const quota = (i: number) =>
    Math.floor(options.messages / options.lanes) + (i < options.messages % options.lanes ? 1 : 0);

  let stopped: Awaited<ReturnType<Canary['stop']>> = [];
  try {
    for (const [i, lane] of lanes.entries()) {
      await lane.start(logger, options.seed + i);
      listener.add(lane.bgpSession);
      laneOf.set(lane.bgpSession, lane);
      lane.begin();
    }
    // The first connections load and compile what the sessions need: warm-up, not a hang.
    for (const [i, first] of (await Promise.all(lanes.map((lane) => lane.awaitSession()))).entries()) {
      if (!first.value) reconnected({ lane: i, cpuMs: first.cpuMs, wallMs: first.wallMs, ok: false });
    }
    poller.restart();
    speakerCpu.reset();
    await Promise.all(lanes.map((lane, i) => lane.run(quota(i), report, reconnected)));
  } finally {
    await Promise.all(lanes.map((lane) => lane.stop()));
    await listener.close();
    poller.stop();
    speakerCpu.uninstall();
    stopped = await canary.stop();
    process.off('uncaughtException', onEscape);
    process.off('unhandledRejection', onEscape);
  }
  const speaker = speakerCpu.result(stopped);
  return {
    seed: options.seed,
    lanes: options.lanes,
    messages: done,
    byState,
    exits: exitErrors.length,
    exitErrors: exitErrors.slice(0, 10),
    hangs: hangs + speaker.hangs,
    hangDetails,
    wrongVerdicts,
    mismatches,
    internalErrors,
    rules,
    reconnects,
    answerCpuMs: { max: cpu.max, p99: cpu.percentile(0.99) },
    answerWallMs: { max: wall.max, p99: wall.percentile(0.99), over50 },
    maxTurnCpuMs: poller.maxTurnCpuMs,
    loopTurnsOver: poller.stalls,
    // Half the turn or more inside a gap of the canary: the process, not the loop, stood still.
    loopTurnsStopped: poller.stallWindows.filter((t) => overlapMs(t.from, t.to, stopped) * 2 >= t.to - t.from)
      .length,
    maxSpeakerCpuMs: speaker.maxMs,
    slowSpeakerUnits: speaker.slow,
    slowSpeakerDetails: speaker.details,
    durationSec: (performance.now() - started) / 1000,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    digest: lanes.map((lane) => lane.digest.toString(16).padStart(8, '0')).join(''),
  };
}
