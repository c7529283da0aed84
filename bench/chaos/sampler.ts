/**
 * The soak's sampler: every interval, every process of the chaos lab is read — resident set,
 * descriptors and sockets from /proc, and for our Node processes the V8 heap (used and
 * committed), external memory and event-loop delay from their /metrics (the runner's own from its process) — into a {@link SoakBook}.
 * Thin shell: parsing is process-read.ts's, the figures soak.ts's.
 */
import { readdir, readFile, readlink } from 'node:fs/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { LabDaemon } from '../../lab/netns.ts';
import type { Topology } from '../../lab/topology.ts';
import type { ControllerPair } from './faults.ts';
import {
  countDescriptors,
  metricsAddressOf,
  type NodeStats,
  nodeStatsOf,
  statusPrivateRssBytes,
  statusRssBytes,
} from './process-read.ts';
import { SoakBook } from './soak.ts';

/** A process to sample. */
export interface SampledProcess {
  readonly role: string;
  readonly pid: number;
  /** Why the soak's targets do not apply to it. */
  readonly note?: string;
  /** Heap and event-loop delay (our Node processes); undefined when they cannot be read now. */
  readonly nodeStats?: () => Promise<NodeStats | undefined>;
}

/**
 * Resident set, descriptors and sockets of `pid`; undefined when it is gone or going. The
 * descriptors are read first: an exiting process gives up its memory before its descriptors
 * (the kernel's exit path), so a VmRSS still there afterwards means the descriptors were read
 * before they were closed. The other order read a SIGKILLed controller with 0 descriptors.
 */
async function readProc(
  pid: number,
): Promise<{ rssBytes: number; privateRssBytes?: number; fds: number; sockets: number } | undefined> {
  try {
    const fdDir = `/proc/${pid}/fd`;
    const targets = await Promise.all(
      (await readdir(fdDir)).map((fd) => readlink(`${fdDir}/${fd}`).catch(() => undefined)),
    );
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const rssBytes = statusRssBytes(status);
    if (rssBytes === undefined) return undefined; // exiting or a zombie: no memory left
    const privateRssBytes = statusPrivateRssBytes(status);
    return {
      rssBytes,
      ...(privateRssBytes === undefined ? {} : { privateRssBytes }),
      ...countDescriptors(targets.filter((t): t is string => t !== undefined)),
    };
  } catch {
    return undefined; // exited between the listing and the read
  }
}

const running = (d: LabDaemon | undefined): d is LabDaemon =>
  d !== undefined && d.pid > 0 && d.child.exitCode === null && d.child.signalCode === null;

async function metricsOver(fetchText: () => Promise<string>): Promise<NodeStats | undefined> {
  try {
    return nodeStatsOf(await fetchText());
  } catch {
    return undefined; // the process is stopping, starved or not serving yet: /proc still counts
  }
}

/**
 * Every process of the lab now: the runner (it hosts the embedded API server), the controller
 * replicas, the speakers, BIRD, and on every node the ingress (and nginx's backends) and the
 * two halves of the API path in the namespace (socat).
 */
export function labProcesses(
  topo: Topology,
  controllers: ControllerPair,
  runnerStats: () => NodeStats,
): SampledProcess[] {
  const out: SampledProcess[] = [
    {
      role: 'runner',
      pid: process.pid,
      note: 'the chaos runner: hosts the embedded API server and keeps every probe record of the run, so it grows by design',
      nodeStats: async () => runnerStats(),
    },
  ];
  for (const c of controllers.replicas.filter(running)) {
    out.push({
      role: 'controller',
      pid: c.pid,
      nodeStats: () =>
        metricsOver(async () => {
          const address = metricsAddressOf(c.output());
          if (address === undefined) throw new Error('no metrics address logged yet');
          const res = await fetch(`http://${address}/metrics`, { signal: AbortSignal.timeout(5_000) });
          return res.text();
        }),
    });
  }
  for (const node of topo.nodes) {
    const speaker = node.speaker;
    if (running(speaker)) {
      out.push({
        role: `speaker ${node.name}`,
        pid: speaker.pid,
        nodeStats: () =>
          metricsOver(
            async () =>
              (
                await topo.lab.exec(
                  node.short,
                  ['curl', '-sf', '--max-time', '5', 'http://127.0.0.1:7473/metrics'],
                  {
                    timeoutMs: 8_000,
                  },
                )
              ).stdout,
          ),
      });
    }
    const others: [string, LabDaemon | undefined][] = [
      [`ingress ${node.name}`, node.ingress],
      ...node.backends.map((b, i): [string, LabDaemon] => [`backend ${i + 1} ${node.name}`, b]),
      [`api relay ${node.name}`, node.apiRelay],
      [`api tls relay ${node.name}`, node.apiTlsRelay],
    ];
    for (const [role, daemon] of others) if (running(daemon)) out.push({ role, pid: daemon.pid });
  }
  if (running(topo.bird)) out.push({ role: 'bird', pid: topo.bird.pid });
  return out;
}

/** Samples `list()` now and every `intervalMs` until {@link stop}. */
export class SoakSampler {
  readonly book = new SoakBook();
  readonly #list: (sampler: SoakSampler) => SampledProcess[];
  readonly #intervalMs: number;
  readonly #delay = monitorEventLoopDelay({ resolution: 20 });
  #stopped = false;
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;

  constructor(list: (sampler: SoakSampler) => SampledProcess[], intervalMs: number) {
    if (!(intervalMs >= 1_000)) throw new Error(`soak: sample interval ${intervalMs} ms is under 1 s`);
    this.#list = list;
    this.#intervalMs = intervalMs;
  }

  /** This process's own heap, external memory and event-loop delay p99 since the last call. */
  runnerStats(): NodeStats {
    const p99 = this.#delay.count > 0 ? this.#delay.percentile(99) / 1e6 : undefined;
    this.#delay.reset();
    const memory = process.memoryUsage();
    return {
      heapUsedBytes: memory.heapUsed,
      heapTotalBytes: memory.heapTotal,
      externalBytes: memory.external,
      ...(p99 === undefined ? {} : { loopDelayP99Ms: p99 }),
    };
  }

  start(): void {
    this.#delay.enable();
    this.#loop = (async () => {
      while (!this.#stopped) {
        const started = Date.now();
        await this.#sampleAll();
        const wait = this.#intervalMs - (Date.now() - started);
        if (wait > 0 && !this.#stopped)
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, wait);
            this.#wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
      }
    })();
  }

  /** Ends the sampling; waits for a round in progress. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#wake?.();
    await this.#loop;
    this.#delay.disable();
  }

  async #sampleAll(): Promise<void> {
    const processes = this.#list(this);
    const readings = await Promise.all(
      processes.map(async (p) => {
        const [proc, stats] = await Promise.all([readProc(p.pid), p.nodeStats?.()]);
        return { p, proc, stats, atMs: Date.now() };
      }),
    );
    for (const { p, proc, stats, atMs } of readings) {
      if (proc === undefined) continue;
      this.book.add({ role: p.role, pid: p.pid, atMs, ...proc, ...stats }, p.note);
    }
  }
}
