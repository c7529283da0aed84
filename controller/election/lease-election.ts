/**
 * Leader election on a coordination.k8s.io/v1 Lease: the rules, with time passed in (pure).
 *
 * The three durations mean what they mean in client-go's leaderelection:
 * - a candidate takes over a record it has seen unchanged for the record's
 *   `leaseDurationSeconds`, measured on its own clock from when the answer that showed the
 *   record arrived (no comparison of clocks across nodes; the record's times are only compared
 *   for change);
 * - a leader's calls are retried every `retryPeriodMs`;
 * - a leader that has not renewed within `renewDeadlineMs` stops leading.
 *
 * Where this is stricter than client-go (which measures the renew deadline from the start of a
 * renewal round, so a leader may act up to retryPeriod + renewDeadline after its last renewal,
 * and ends leadership only once the hung call returns):
 * - leadership ends at `start of the last successful attempt + renewDeadlineMs`, a time fixed
 *   when the attempt starts, so the shell arms a step-down timer for it and no hung call can
 *   postpone it;
 * - every Lease call of an attempt has that same end as its deadline (`callDeadlineMs`);
 * - every write of the leader is refused from that instant (`writeDeadlineMs`).
 *
 * Why two leaders cannot write at once: a renewal started at `s` is applied by the server at
 * some `a >= s`; a candidate that sees it does so in an answer arriving at `g >= a` and takes over
 * no earlier than `g + leaseDuration`. The leader stops at `s + renewDeadline`, which is earlier
 * by at least `leaseDuration - renewDeadline`: that margin absorbs the difference in clock
 * rates and the delivery of a write sent just before the end. Kubernetes has no fencing token,
 * so a write delivered later than that margin (a network that holds a request and delivers it
 * after the sender gave up) is the one case these rules cannot exclude.
 */

/** client-go's three durations (its defaults: 15 s, 10 s, 2 s). */
export interface ElectionTiming {
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
}

/** client-go refuses a renew deadline within 1.2 retry periods (its JitterFactor). */
const RETRY_FACTOR = 1.2;

/** Checks the timing as client-go does; throws a RangeError naming the field. */
export function checkTiming(timing: ElectionTiming): ElectionTiming {
  for (const field of ['leaseDurationMs', 'renewDeadlineMs', 'retryPeriodMs'] as const) {
    const value = timing[field];
    if (!Number.isFinite(value) || value <= 0)
      throw new RangeError(`leader election: ${field} must be a positive number, not ${value}`);
  }
  if (timing.leaseDurationMs % 1000 !== 0)
    throw new RangeError(
      `leader election: leaseDurationMs must be whole seconds (the Lease stores seconds), not ${timing.leaseDurationMs}`,
    );
  if (timing.leaseDurationMs <= timing.renewDeadlineMs)
    throw new RangeError(
      `leader election: the lease duration (${timing.leaseDurationMs} ms) must be longer than the renew deadline (${timing.renewDeadlineMs} ms)`,
    );
  if (timing.renewDeadlineMs <= RETRY_FACTOR * timing.retryPeriodMs)
    throw new RangeError(
      `leader election: the renew deadline (${timing.renewDeadlineMs} ms) must be longer than ${RETRY_FACTOR} retry periods (${timing.retryPeriodMs} ms)`,
    );
  return timing;
}

/** The Lease as read from the API: untrusted, so every field is checked before use. */
export interface LeaseRecord {
  /** '' when nobody holds it. */
  readonly holder: string;
  /** The holder's lease duration; undefined when missing or not a positive whole number. */
  readonly leaseDurationSec: number | undefined;
  readonly acquireTime: string | undefined;
  readonly renewTime: string | undefined;
  readonly transitions: number;
  readonly resourceVersion: string;
}

/** The coordination.k8s.io/v1 Lease fields read and written (times as MicroTime text). */
export interface LeaseObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; [field: string]: unknown };
  spec?: LeaseSpec;
}

export interface LeaseSpec {
  holderIdentity?: string | undefined;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
  [field: string]: unknown;
}

/** Reads a Lease object from the API; wrong types read as absent. */
export function readLease(object: unknown): LeaseRecord {
  const lease = (typeof object === 'object' && object !== null ? object : {}) as LeaseObject;
  const spec = (typeof lease.spec === 'object' && lease.spec !== null ? lease.spec : {}) as LeaseSpec;
  const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
  const duration = spec.leaseDurationSeconds;
  const transitions = spec.leaseTransitions;
  return {
    holder: text(spec.holderIdentity) ?? '',
    leaseDurationSec: Number.isSafeInteger(duration) && (duration as number) > 0 ? duration : undefined,
    acquireTime: text(spec.acquireTime),
    renewTime: text(spec.renewTime),
    transitions:
      Number.isSafeInteger(transitions) && (transitions as number) >= 0 ? (transitions as number) : 0,
    resourceVersion: text(lease.metadata?.resourceVersion) ?? '',
  };
}

/** What this replica knows; replaced, never changed in place. */
export interface ElectionState {
  /** Leadership holds while `nowMs < leaderUntilMs`; undefined: not leading. */
  readonly leaderUntilMs: number | undefined;
  /** The last record seen, and since when (this replica's clock) it has looked like this. */
  readonly observed: { readonly record: LeaseRecord; readonly sinceMs: number } | undefined;
}

export const INITIAL_STATE: ElectionState = { leaderUntilMs: undefined, observed: undefined };

/** Whether this replica leads at `nowMs`. */
export function isLeading(state: ElectionState, nowMs: number): boolean {
  return state.leaderUntilMs !== undefined && nowMs < state.leaderUntilMs;
}

/**
 * The deadline (absolute, ms) of every Lease call of an attempt started at `startMs`: a leader's
 * calls end when its leadership does; a candidate's when leadership won by them would.
 */
export function callDeadlineMs(state: ElectionState, startMs: number, timing: ElectionTiming): number {
  const won = startMs + timing.renewDeadlineMs;
  return isLeading(state, startMs) ? Math.min(state.leaderUntilMs!, won) : won;
}

/** The deadline (absolute, ms) of a leader's write sent at `nowMs`; undefined: refuse the write. */
export function writeDeadlineMs(state: ElectionState, nowMs: number): number | undefined {
  return isLeading(state, nowMs) ? state.leaderUntilMs : undefined;
}

/** When the next attempt starts, after one that ended at `endedMs`. */
export function nextAttemptMs(endedMs: number, timing: ElectionTiming): number {
  return endedMs + timing.retryPeriodMs;
}

/** What to do with the record just read. */
export type Decision =
  | { readonly kind: 'create' }
  | { readonly kind: 'renew' }
  | { readonly kind: 'acquire' }
  /** Held by `holder` until at least `untilMs`; a leader that sees this has lost. */
  | { readonly kind: 'wait'; readonly holder: string; readonly untilMs: number };

/** Notes a record read in an answer that arrived at `atMs`; `undefined`: the Lease does not exist. */
export function observe(state: ElectionState, record: LeaseRecord | undefined, atMs: number): ElectionState {
  if (record === undefined) return { ...state, observed: undefined };
  if (state.observed && sameRecord(state.observed.record, record))
    return { ...state, observed: { record, sinceMs: state.observed.sinceMs } };
  return { ...state, observed: { record, sinceMs: atMs } };
}

/**
 * The decision on the last observed record at `nowMs`. A record's own duration counts (the
 * holder says how long it may be silent; a released Lease says 1 s); a missing or malformed one
 * counts as ours.
 */
export function decide(
  state: ElectionState,
  identity: string,
  nowMs: number,
  timing: ElectionTiming,
): Decision {
  const observed = state.observed;
  if (!observed) return { kind: 'create' };
  const { record, sinceMs } = observed;
  if (record.holder === identity) return { kind: 'renew' };
  if (record.holder === '') return { kind: 'acquire' };
  const untilMs =
    sinceMs + (record.leaseDurationSec ? record.leaseDurationSec * 1000 : timing.leaseDurationMs);
  return nowMs >= untilMs ? { kind: 'acquire' } : { kind: 'wait', holder: record.holder, untilMs };
}

/**
 * Our write of the Lease (create, renew or acquire) succeeded: the attempt started at `startMs`,
 * its answer (with `record`, the Lease as stored) arrived at `nowMs`. Leadership runs to
 * `startMs + renewDeadlineMs`; an answer that arrives after that leads to nothing.
 */
export function wrote(
  record: LeaseRecord,
  startMs: number,
  nowMs: number,
  timing: ElectionTiming,
): ElectionState {
  const untilMs = startMs + timing.renewDeadlineMs;
  const observed = { record, sinceMs: nowMs };
  return { leaderUntilMs: nowMs < untilMs ? untilMs : undefined, observed };
}

/** Leadership is over (another holder seen, stopping): nothing more is written. */
export function resign(state: ElectionState): ElectionState {
  return state.leaderUntilMs === undefined ? state : { ...state, leaderUntilMs: undefined };
}

/** At `nowMs`: leadership past its end is over (the step-down timer's rule). */
export function expire(state: ElectionState, nowMs: number): ElectionState {
  return state.leaderUntilMs !== undefined && nowMs >= state.leaderUntilMs ? resign(state) : state;
}

/**
 * The spec to write for a decision: `renew` keeps the acquire time and transition count;
 * `acquire` and `create` start a term. `nowText` is the wall-clock time as MicroTime text.
 */
export function specFor(
  decision: 'create' | 'renew' | 'acquire',
  previous: LeaseSpec | undefined,
  record: LeaseRecord | undefined,
  identity: string,
  timing: ElectionTiming,
  nowText: string,
): LeaseSpec {
  const term =
    decision === 'renew'
      ? {}
      : {
          acquireTime: nowText,
          leaseTransitions: decision === 'create' ? 0 : (record?.transitions ?? 0) + 1,
        };
  return {
    ...previous,
    holderIdentity: identity,
    leaseDurationSeconds: timing.leaseDurationMs / 1000,
    renewTime: nowText,
    ...term,
  };
}

/** The spec of a released Lease: no holder, a 1 s duration, so a candidate takes it at once. */
export function releasedSpec(previous: LeaseSpec | undefined, nowText: string): LeaseSpec {
  return { ...previous, holderIdentity: undefined, leaseDurationSeconds: 1, renewTime: nowText };
}

/** A MicroTime: RFC 3339 with six fractional digits, as client-go writes it. */
export function microTime(wallMs: number): string {
  return new Date(wallMs).toISOString().replace('Z', '000Z');
}

/** Same record as far as the election goes (client-go compares the record, not the resourceVersion). */
function sameRecord(a: LeaseRecord, b: LeaseRecord): boolean {
  return (
    a.holder === b.holder &&
    a.renewTime === b.renewTime &&
    a.acquireTime === b.acquireTime &&
    a.leaseDurationSec === b.leaseDurationSec &&
    a.transitions === b.transitions
  );
}
