import type { RateLimit } from '../responder/rate-limiter.ts';
import type { AnnounceSchedule } from '../responder/schedule.ts';

/** An interface the worker may open a packet socket on. */
export interface WorkerInterface {
  readonly name: string;
  readonly ifindex: number;
  readonly mac: string;
}

/** Messages from the announcer (main thread) to the packet worker; `id` pairs a request with its `done`. */
export type ToWorker =
  | {
      type: 'configure';
      id: number;
      schedule: AnnounceSchedule;
      rateLimit: RateLimit;
      overallRateLimit: RateLimit;
    }
  | { type: 'interfaces'; id: number; interfaces: WorkerInterface[] }
  /** `interfaces` undefined: every interface the worker knows. */
  | { type: 'announce'; id: number; ip: string; interfaces: string[] | undefined }
  | { type: 'withdraw'; id: number; ip: string }
  | { type: 'reassert'; id: number }
  | { type: 'counters'; id: number }
  /** The thread's loop iterations (native/loop-meter.cc); the longest is since the previous ask. */
  | { type: 'loop-work'; id: number }
  | { type: 'stop'; id: number };

/** Counter names, as in the metrics (`metalbeacon_l2_<name>_total`). */
export const CounterName = {
  RequestsReceived: 'requests_received',
  ResponsesSent: 'responses_sent',
  GratuitousSent: 'gratuitous_sent',
  MalformedDropped: 'malformed_dropped',
  RateLimited: 'rate_limited',
  RequestsDropped: 'requests_dropped',
  Conflicts: 'conflicts',
  SendErrors: 'send_errors',
} as const;
export type CounterName = (typeof CounterName)[keyof typeof CounterName];

/** One counter value; `ip` is empty for per-interface counters, `reason` for malformed and dropped ones. */
export interface CounterRow {
  readonly name: CounterName;
  readonly ip: string;
  readonly interface: string;
  readonly reason: string;
  readonly value: number;
}

/** Where an IP is being announced right now. */
export interface ActiveAnnouncement {
  readonly ip: string;
  readonly interfaces: string[];
}

/** The network thread's loop iterations, in its CPU time (native/loop-meter.cc). */
export interface LoopWork {
  /** Since start. */
  readonly iterations: number;
  /** The longest since the previous ask. */
  readonly longestUs: number;
  /** Since start, those over 0.5, 1 and 2 ms. */
  readonly over500us: number;
  readonly over1ms: number;
  readonly over2ms: number;
}

/** Messages from the packet worker. */
export type FromWorker =
  | { type: 'done'; id: number; error?: { code: string | undefined; message: string } }
  | { type: 'counters'; id: number; counters: CounterRow[]; active: ActiveAnnouncement[] }
  /** `work` undefined: no meter (the addon did not load). */
  | { type: 'loop-work'; id: number; work: LoopWork | undefined }
  | {
      type: 'event';
      level: 'debug' | 'info' | 'warn' | 'error';
      message: string;
      fields: Record<string, string | number | boolean>;
    };
