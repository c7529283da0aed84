/**
 * A discrete-event model for the tests of lease-election.ts: replicas that follow the rules, an
 * API server holding one Lease with resourceVersion preconditions, and a network whose every
 * leg takes the next of the given latencies (Infinity: lost). The server applies a request when
 * it arrives, also after its sender gave up (a network that delivers late); a sender takes an
 * answer only before its deadline. Not product code: it only drives the rules the shell runs.
 */
import {
  callDeadlineMs,
  decide,
  type ElectionState,
  type ElectionTiming,
  INITIAL_STATE,
  isLeading,
  type LeaseObject,
  nextAttemptMs,
  observe,
  readLease,
  resign,
  specFor,
  wrote,
} from './lease-election.ts';

export interface SimulationInput {
  readonly timing: ElectionTiming;
  readonly replicas: number;
  /** Milliseconds per network leg, used in turn and cycled. */
  readonly latencies: readonly number[];
  /** When the replica leading at that moment (if any) crashes. */
  readonly crashMs?: number | undefined;
  readonly endMs: number;
}

/** A stretch of time during which `replica` led (could write). */
export interface Term {
  readonly replica: string;
  readonly fromMs: number;
  untilMs: number;
}

interface Replica {
  readonly id: string;
  state: ElectionState;
  lastWritten: LeaseObject | undefined;
  crashed: boolean;
}

type Answer = { ok: true; lease: LeaseObject } | { ok: false; status: 404 | 409 };

export function simulate(input: SimulationInput): { terms: Term[] } {
  const { timing, latencies, endMs } = input;
  const queue: { atMs: number; seq: number; run: () => void }[] = [];
  let seq = 0;
  let leg = 0;
  const at = (atMs: number, run: () => void): void => {
    if (atMs <= endMs) queue.push({ atMs, seq: seq++, run });
  };
  const nextLatency = (): number => latencies[leg++ % latencies.length]!;

  let stored: { spec: LeaseObject['spec']; rv: number } | undefined;
  let rv = 0;
  const asObject = (): LeaseObject => ({
    metadata: { resourceVersion: String(stored!.rv) },
    spec: stored!.spec,
  });
  const server = {
    get: (): Answer => (stored ? { ok: true, lease: asObject() } : { ok: false, status: 404 }),
    create(body: LeaseObject): Answer {
      if (stored) return { ok: false, status: 409 };
      stored = { spec: body.spec, rv: ++rv };
      return { ok: true, lease: asObject() };
    },
    replace(body: LeaseObject): Answer {
      if (!stored) return { ok: false, status: 404 };
      if (body.metadata?.resourceVersion !== String(stored.rv)) return { ok: false, status: 409 };
      stored = { spec: body.spec, rv: ++rv };
      return { ok: true, lease: asObject() };
    },
  };

  const terms: Term[] = [];
  const openTerm = (r: Replica, nowMs: number): Term | undefined => {
    const last = terms.findLast((term) => term.replica === r.id);
    return last && last.untilMs > nowMs ? last : undefined;
  };
  const endTerm = (r: Replica, nowMs: number): void => {
    const term = openTerm(r, nowMs);
    if (term) term.untilMs = nowMs;
  };

  /** A request sent at `sentMs`; `then` gets the answer, or undefined at the deadline. */
  const call = (
    sentMs: number,
    deadlineMs: number,
    op: () => Answer,
    then: (answer: Answer | undefined, nowMs: number) => void,
  ): void => {
    const arrivesMs = sentMs + nextLatency();
    const answeredMs = arrivesMs + nextLatency();
    if (answeredMs > deadlineMs) at(deadlineMs, () => then(undefined, deadlineMs));
    at(arrivesMs, () => {
      const answer = op();
      if (answeredMs <= deadlineMs) at(answeredMs, () => then(answer, answeredMs));
    });
  };

  const attempt = (r: Replica, startMs: number): void => {
    if (r.crashed) return;
    const deadlineMs = callDeadlineMs(r.state, startMs, timing);
    const finish = (nowMs: number): void =>
      at(nextAttemptMs(nowMs, timing), () => attempt(r, nextAttemptMs(nowMs, timing)));
    const took = (answer: Answer | undefined, nowMs: number): void => {
      if (r.crashed) return;
      if (answer?.ok) {
        r.lastWritten = answer.lease;
        r.state = wrote(readLease(answer.lease), startMs, nowMs, timing);
        const untilMs = r.state.leaderUntilMs;
        if (untilMs !== undefined) {
          const term = openTerm(r, nowMs);
          if (term) term.untilMs = untilMs;
          else terms.push({ replica: r.id, fromMs: nowMs, untilMs });
        }
      } else if (answer?.status === 409) {
        r.lastWritten = undefined;
      }
      finish(nowMs);
    };
    const readThenWrite = (sentMs: number): void =>
      call(sentMs, deadlineMs, server.get, (answer, nowMs) => {
        if (r.crashed) return;
        if (!answer || (!answer.ok && answer.status !== 404)) return finish(nowMs);
        const lease = answer.ok ? answer.lease : undefined;
        r.state = observe(r.state, lease && readLease(lease), nowMs);
        const decision = decide(r.state, r.id, nowMs, timing);
        if (decision.kind === 'wait') {
          r.state = resign(r.state);
          r.lastWritten = undefined;
          endTerm(r, nowMs);
          return finish(nowMs);
        }
        const spec = specFor(
          decision.kind,
          lease?.spec,
          lease && readLease(lease),
          r.id,
          timing,
          `T${nowMs}`,
        );
        const op =
          decision.kind === 'create'
            ? () => server.create({ spec })
            : () => server.replace({ ...lease, spec });
        call(nowMs, deadlineMs, op, took);
      });
    const last = r.lastWritten;
    if (last && isLeading(r.state, startMs)) {
      const spec = specFor('renew', last.spec, readLease(last), r.id, timing, `T${startMs}`);
      call(
        startMs,
        deadlineMs,
        () => server.replace({ ...last, spec }),
        (answer, nowMs) => {
          if (answer && !answer.ok && answer.status === 409 && !r.crashed) readThenWrite(nowMs);
          else took(answer, nowMs);
        },
      );
    } else readThenWrite(startMs);
  };

  const replicas: Replica[] = Array.from({ length: input.replicas }, (_, i) => ({
    id: `r${i}`,
    state: INITIAL_STATE,
    lastWritten: undefined,
    crashed: false,
  }));
  for (const r of replicas) at(0, () => attempt(r, 0));
  if (input.crashMs !== undefined) {
    const crashMs = input.crashMs;
    at(crashMs, () => {
      const leader = replicas.find((r) => isLeading(r.state, crashMs));
      if (!leader) return;
      leader.crashed = true;
      endTerm(leader, crashMs);
    });
  }
  for (;;) {
    let first = -1;
    for (let i = 0; i < queue.length; i++) {
      const e = queue[i]!;
      const best = queue[first];
      if (!best || e.atMs < best.atMs || (e.atMs === best.atMs && e.seq < best.seq)) first = i;
    }
    if (first < 0) break;
    const [event] = queue.splice(first, 1);
    event!.run();
  }
  return { terms };
}
