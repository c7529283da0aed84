import { Counter, Gauge, oncePerScrape, type Registry } from '../../../shared/metrics/metrics.ts';
import { type CounterName, type CounterRow, type LoopWork, CounterName as Name } from '../engine/messages.ts';

const HELP: Record<CounterName, string> = {
  [Name.RequestsReceived]: 'ARP requests and neighbor solicitations received for an announced IP',
  [Name.ResponsesSent]: 'ARP replies and neighbor advertisements sent in answer',
  [Name.GratuitousSent]: 'gratuitous ARP (request and reply form) and unsolicited NA sent',
  [Name.MalformedDropped]: 'malformed ARP/NDP frames counted and dropped, by reason',
  [Name.RateLimited]: 'requests not answered because the requester exceeded its rate limit',
  [Name.RequestsDropped]:
    'requests for an announced IP dropped unanswered, by reason (source-not-unicast, sender-mac-not-unicast, sender-ip-not-unicast, overall-budget)',
  [Name.Conflicts]: 'frames in which another host claims an IP we announce',
  [Name.SendErrors]: 'frames the kernel refused to send',
};

/**
 * Registers `metalbeacon_l2_*_total` counters (labels ip, interface, reason) in `registry`,
 * read from the packet worker at scrape time (the worker owns the numbers).
 */
export function registerL2Metrics(registry: Registry, read: () => Promise<CounterRow[]>): void {
  // One worker round trip per scrape, shared by all counters.
  const rows = oncePerScrape(read);
  for (const name of Object.values(Name)) {
    new Counter({
      name: `metalbeacon_l2_${name}_total`,
      help: HELP[name],
      labelNames: ['ip', 'interface', 'reason'] as const,
      registers: [registry],
      async collect() {
        const all = await rows();
        this.reset();
        for (const row of all) {
          if (row.name === name)
            this.inc({ ip: row.ip, interface: row.interface, reason: row.reason }, row.value);
        }
      },
    });
  }
}

/**
 * Registers `metalbeacon_network_thread_*`: the CPU time of the speaker's network thread from
 * one wait for I/O to the next (an ARP request arriving meanwhile waits for the end of it),
 * read from the thread at scrape time. The longest is since the previous scrape.
 */
export function registerLoopMetrics(registry: Registry, read: () => Promise<LoopWork | undefined>): void {
  const work = oncePerScrape(read);
  new Gauge({
    name: 'metalbeacon_network_thread_longest_iteration_seconds',
    help: "the network thread's longest loop iteration since the previous scrape, in its own CPU time",
    registers: [registry],
    async collect() {
      const now = await work();
      if (now) this.set(now.longestUs / 1e6);
    },
  });
  new Counter({
    name: 'metalbeacon_network_thread_iterations_total',
    help: "the network thread's loop iterations, all and those over a CPU time (label over: 0.5ms, 1ms, 2ms)",
    labelNames: ['over'] as const,
    registers: [registry],
    async collect() {
      const now = await work();
      if (!now) return;
      this.reset();
      this.inc({ over: '0' }, now.iterations);
      this.inc({ over: '0.5ms' }, now.over500us);
      this.inc({ over: '1ms' }, now.over1ms);
      this.inc({ over: '2ms' }, now.over2ms);
    },
  });
}
