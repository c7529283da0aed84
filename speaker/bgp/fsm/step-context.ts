import type { FsmAction, FsmState, StepResult } from './types.ts';

/**
 * What the parts of one FSM step share: the state as it evolves and the actions in the order the
 * shell must carry them out. Every part (./transitions.ts, ./collision.ts, ./graceful-restart.ts,
 * ./messages.ts) works on it, so that one step is still one pure function of state, event and time.
 */

/** Collects actions and the evolving state for one step. */
export class Step {
  state: FsmState;
  readonly actions: FsmAction[] = [];
  constructor(state: FsmState) {
    this.state = state;
  }
  set(patch: Partial<FsmState>): void {
    this.state = { ...this.state, ...patch };
  }
  do(...actions: FsmAction[]): void {
    this.actions.push(...actions);
  }
  result(): StepResult {
    return { state: this.state, actions: this.actions };
  }
}

/** Every timer the FSM runs; all stop when the session goes Idle. */
export const ALL_TIMERS = ['connectRetry', 'hold', 'keepalive', 'idleHold'] as const;
