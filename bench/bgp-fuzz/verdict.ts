/**
 * Verdicts: what the speaker does about one message, as the fuzzer observes it on the wire and
 * in the session's metrics, and as the oracle expects it.
 */

import type { RuleId } from './rules.ts';

/** RFC 7606 §2 outcomes that keep the session (ADR 0003 adds value-discard). */
export type KeptAction = 'treat-as-withdraw' | 'attribute-discard' | 'value-discard';
export const KEPT_ACTIONS: readonly KeptAction[] = [
  'treat-as-withdraw',
  'attribute-discard',
  'value-discard',
];

/** Errors of one UPDATE by action (the session's update-errors metric, per message). */
export type ActionCounts = Readonly<Record<KeptAction, number>>;

export const NO_ERRORS: ActionCounts = { 'treat-as-withdraw': 0, 'attribute-discard': 0, 'value-discard': 0 };

export type Verdict =
  /** We send this NOTIFICATION and close (a session reset). */
  | { readonly kind: 'notification'; readonly code: number; readonly subcode: number }
  /** We close without a NOTIFICATION (the peer sent one; RFC 4271 §6.4). */
  | { readonly kind: 'closed' }
  /** The session stays; the UPDATE errors counted by action. */
  | { readonly kind: 'kept'; readonly errors: ActionCounts }
  /** ROUTE-REFRESH in Established: the family is resent, or the request ignored (RFC 2918 §4). */
  | { readonly kind: 'refresh'; readonly outcome: 'answered' | 'ignored' }
  /** Our OPEN accepted in OpenSent: the speaker's KEEPALIVE comes back (OpenConfirm). */
  | { readonly kind: 'opened' }
  /** Our KEEPALIVE in OpenConfirm: the session is Established. */
  | { readonly kind: 'established' }
  /** A second connection from the peer replaced the Established one (RFC 4724 §5). */
  | { readonly kind: 'replaced' }
  /** A second connection from the peer was closed, the Established one kept (RFC 4271 §6.8). */
  | { readonly kind: 'refused' }
  /** Collision of two connections (RFC 4271 §6.8): ours (the speaker's) or the peer's kept, the other closed with 6/7. */
  | { readonly kind: 'collision'; readonly kept: 'ours' | 'theirs' };

export const notify = (code: number, subcode: number): Verdict => ({ kind: 'notification', code, subcode });
export const kept = (errors: ActionCounts = NO_ERRORS): Verdict => ({ kind: 'kept', errors });

/** What the oracle expects: any one of `verdicts`, by the rules named. */
export interface Expectation {
  readonly verdicts: readonly Verdict[];
  /** The session kept, whatever errors it counted (a blind mutation: the oracle cannot tell). */
  readonly anyKept?: boolean;
  /** The rules of the table (rules.ts) that gave it. */
  readonly rules: readonly RuleId[];
}

export function sameVerdict(a: Verdict, b: Verdict): boolean {
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case 'notification':
      return b.kind === 'notification' && a.code === b.code && a.subcode === b.subcode;
    case 'kept':
      return b.kind === 'kept' && KEPT_ACTIONS.every((k) => a.errors[k] === b.errors[k]);
    case 'refresh':
      return b.kind === 'refresh' && a.outcome === b.outcome;
    case 'collision':
      return b.kind === 'collision' && a.kept === b.kept;
    default:
      return true;
  }
}

export function matches(expected: Expectation, observed: Verdict): boolean {
  if (expected.anyKept && observed.kind === 'kept') return true;
  return expected.verdicts.some((v) => sameVerdict(v, observed));
}

export function describeVerdict(v: Verdict): string {
  switch (v.kind) {
    case 'notification':
      return `NOTIFICATION ${v.code}/${v.subcode}`;
    case 'kept': {
      const errors = KEPT_ACTIONS.filter((k) => v.errors[k] > 0).map((k) => `${k} ${v.errors[k]}`);
      return errors.length === 0 ? 'kept' : `kept (${errors.join(', ')})`;
    }
    case 'refresh':
      return `refresh ${v.outcome}`;
    case 'collision':
      return `collision: ${v.kept === 'ours' ? "the speaker's" : "the peer's"} connection kept`;
    default:
      return v.kind;
  }
}
