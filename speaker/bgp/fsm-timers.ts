import type { FsmEvent, TimerName } from './fsm/index.ts';

const TIMER_EVENTS = {
  connectRetry: 'ConnectRetryTimerExpires',
  hold: 'HoldTimerExpires',
  keepalive: 'KeepaliveTimerExpires',
  idleHold: 'IdleHoldTimerExpires',
} as const satisfies Record<TimerName, FsmEvent['type']>;

/** The FSM's timers on Node timeouts: each expiry becomes the FSM event of its timer. */
export class FsmTimers {
  /** timer → its Node timeout and the delay it was started with. */
  private readonly timers = new Map<TimerName, { readonly timeout: NodeJS.Timeout; readonly ms: number }>();
  private readonly expired: (event: FsmEvent) => void;

  constructor(expired: (event: FsmEvent) => void) {
    this.expired = expired;
  }

  /** (Re)starts a timer. */
  start(timer: TimerName, ms: number): void {
    const running = this.timers.get(timer);
    if (running?.ms === ms) {
      // The hold timer restarts on every message: re-arming the same timeout allocates nothing.
      running.timeout.refresh();
      return;
    }
    if (running) clearTimeout(running.timeout);
    const type = TIMER_EVENTS[timer];
    const timeout = setTimeout(() => {
      this.timers.delete(timer);
      this.expired({ type });
    }, ms);
    this.timers.set(timer, { timeout, ms });
  }

  stop(timer: TimerName): void {
    clearTimeout(this.timers.get(timer)?.timeout);
    this.timers.delete(timer);
  }

  /** Stops every timer. */
  clear(): void {
    for (const timer of this.timers.values()) clearTimeout(timer.timeout);
    this.timers.clear();
  }
}
