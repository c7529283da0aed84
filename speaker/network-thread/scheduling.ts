// How the speaker's network thread asks the kernel to run it: ARP/NDP answers, heartbeats and
// BFD wait for the end of its loop iteration and, before that, for a core. With a real-time
// priority it runs under SCHED_FIFO and preempts every ordinary task when it wakes (as
// keepalived runs VRRP with vrrp_rt_priority); without one, or when the kernel refuses it
// (no CAP_SYS_NICE, or a cgroup without a real-time budget), it asks for the shortest slice
// SCHED_OTHER has, which makes it picked sooner but still waits behind the running task.
// What a thread under SCHED_FIFO may take of a core is bounded twice: the work per datagram and
// per request by the protocols' budgets, everything else by the kernel's RT throttling
// (kernel.sched_rt_runtime_us: by default 95 % of each second per core).

/** The calls into the addon (native/thread-slice.cc); both act on the calling thread. */
export interface SchedulingCalls {
  setThreadRealtime(priority: number): void;
  setThreadSlice(microseconds: number): void;
}

/** How the thread runs after {@link scheduleNetworkThread}. */
export type ThreadScheduling =
  | { readonly policy: 'fifo'; readonly priority: number }
  | { readonly policy: 'other'; readonly shortSlice: boolean };

/** A warning for the operator: what was refused and what the thread runs with instead. */
export interface SchedulingWarning {
  readonly message: string;
  readonly fields: Record<string, string | number>;
}

/** The slice asked for when not real-time (the kernel's smallest). */
export const SHORT_SLICE_US = 100;

/**
 * The speaker's default: the lowest real-time priority. Any real-time priority preempts every
 * ordinary task; the lowest stays below every other real-time thread (the kernel's, threaded
 * interrupt handlers — which deliver the very packets the thread answers — other daemons').
 */
export const DEFAULT_NETWORK_THREAD_PRIORITY = 1;

/** Highest real-time priority a speaker may ask for (SCHED_FIFO's range is 1-99). */
export const MAX_NETWORK_THREAD_PRIORITY = 99;

/**
 * Puts the calling thread under SCHED_FIFO at `priority` (0: do not), falling back to the
 * short slice; `calls` undefined: the addon is missing, and the thread keeps the kernel's
 * defaults. Never throws: every refusal becomes a warning.
 */
export function scheduleNetworkThread(
  priority: number,
  calls: SchedulingCalls | undefined,
  warn: (warning: SchedulingWarning) => void,
): ThreadScheduling {
  if (!calls) {
    warn({
      message:
        'network thread: no native addon, so neither a real-time priority nor a short scheduler slice; ARP answers may wait longer for a core',
      fields: {},
    });
    return { policy: 'other', shortSlice: false };
  }
  if (priority > 0) {
    try {
      calls.setThreadRealtime(priority);
      return { policy: 'fifo', priority };
    } catch (error) {
      const e = error as Error & { code?: string };
      warn({
        message: `network thread: the kernel refused real-time scheduling (SCHED_FIFO priority ${priority}); it needs CAP_SYS_NICE and, under cgroup v1 with RT group scheduling, a real-time budget for the Pod's cgroup. Falling back to a short scheduler slice: ARP answers may wait for a core on a busy node`,
        fields: { error: e.message, ...(e.code ? { code: e.code } : {}) },
      });
    }
  }
  try {
    calls.setThreadSlice(SHORT_SLICE_US);
    return { policy: 'other', shortSlice: true };
  } catch (error) {
    warn({
      message:
        'network thread: the kernel refused a short scheduler slice; ARP answers may wait longer for a core',
      fields: { error: (error as Error).message },
    });
    return { policy: 'other', shortSlice: false };
  }
}
