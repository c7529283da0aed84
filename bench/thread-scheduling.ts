import { readdirSync, readFileSync } from 'node:fs';

// How the kernel runs a process's threads (the speaker's network thread runs under SCHED_FIFO
// with --network-thread-priority): read from /proc by benchmarks and tests.

/** How the kernel runs one thread, from /proc/PID/task/TID. */
export interface ThreadScheduling {
  readonly tid: number;
  /** 'SCHED_OTHER', 'SCHED_FIFO', ... */
  readonly policy: string;
  /** The real-time priority (0 under SCHED_OTHER). */
  readonly priority: number;
  /** Time on a core, and runnable but waiting for one, since the thread started (schedstat). */
  readonly runNs: number;
  readonly waitNs: number;
  /** Times it was put on a core. */
  readonly timeslices: number;
}

/** The name Node gives the speaker's network thread (speaker/network-thread/thread.ts), as comm shows it. */
export const NETWORK_THREAD = 'metalbeacon-net';

const POLICIES = [
  'SCHED_OTHER',
  'SCHED_FIFO',
  'SCHED_RR',
  'SCHED_BATCH',
  'SCHED_ISO',
  'SCHED_IDLE',
  'SCHED_DEADLINE',
];

/** Thread `tid` of process `pid` (the main thread's tid is the pid); undefined once it ended. */
export function threadSchedulingOf(pid: number, tid: number): ThreadScheduling | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    // Fields after the name, which may hold spaces: state is field 3, rt_priority 40, policy 41.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const policy = Number(fields[38]);
    const [runNs = 0, waitNs = 0, timeslices = 0] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8')
      .trim()
      .split(' ')
      .map(Number);
    return {
      tid,
      policy: POLICIES[policy] ?? `policy ${policy}`,
      priority: Number(fields[37]),
      runNs,
      waitNs,
      timeslices,
    };
  } catch {
    return undefined;
  }
}

/** The thread of process `pid` whose name (comm) starts with `name`; undefined if none. */
export function threadScheduling(pid: number, name: string): ThreadScheduling | undefined {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return undefined;
  }
  for (const tid of tids) {
    let comm: string;
    try {
      comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8');
    } catch {
      continue; // ended meanwhile
    }
    if (comm.startsWith(name)) return threadSchedulingOf(pid, Number(tid));
  }
  return undefined;
}
