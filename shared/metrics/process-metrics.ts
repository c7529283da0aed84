import { readdirSync } from 'node:fs';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { Counter, Gauge, Histogram, type Registry } from './metrics.ts';

/**
 * The process and Node.js metrics operators' dashboards expect, under the names prom-client's
 * default metrics use: CPU, resident memory, open file descriptors, V8 heap by space, event-loop
 * delay, GC pauses, the Node version. All read at scrape time but GC pauses (observed as they
 * happen) and the event-loop delay (sampled every 20 ms by Node's native histogram, reset per scrape).
 */
export function collectProcessMetrics(registry: Registry): void {
  const registers = [registry];
  const startSeconds = Math.round(Date.now() / 1000 - process.uptime());
  const cpu = (name: string, help: string, read: (u: NodeJS.CpuUsage) => number) =>
    new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(read(process.cpuUsage()) / 1e6);
      },
    });
  cpu('process_cpu_user_seconds_total', 'User CPU time spent in seconds', (u) => u.user);
  cpu('process_cpu_system_seconds_total', 'System CPU time spent in seconds', (u) => u.system);
  cpu('process_cpu_seconds_total', 'User and system CPU time spent in seconds', (u) => u.user + u.system);

  const gauge = (name: string, help: string, read: () => number | undefined) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        const value = read();
        if (value !== undefined) this.set(value);
      },
    });
  gauge(
    'process_start_time_seconds',
    'Start time of the process since the Unix epoch in seconds',
    () => startSeconds,
  );
  gauge('process_resident_memory_bytes', 'Resident memory size in bytes', () => process.memoryUsage.rss());
  gauge('process_open_fds', 'Number of open file descriptors', openFds);
  gauge(
    'nodejs_heap_size_total_bytes',
    'Process heap size from Node.js in bytes',
    () => process.memoryUsage().heapTotal,
  );
  gauge(
    'nodejs_heap_size_used_bytes',
    'Process heap size used from Node.js in bytes',
    () => process.memoryUsage().heapUsed,
  );
  gauge(
    'nodejs_external_memory_bytes',
    'Node.js external memory size in bytes',
    () => process.memoryUsage().external,
  );

  const space = (
    name: string,
    help: string,
    read: (s: ReturnType<typeof getHeapSpaceStatistics>[number]) => number,
  ) =>
    new Gauge({
      name,
      help,
      labelNames: ['space'] as const,
      registers,
      collect() {
        for (const s of getHeapSpaceStatistics())
          this.set({ space: s.space_name.replace(/_space$/, '') }, read(s));
      },
    });
  space(
    'nodejs_heap_space_size_total_bytes',
    'Process heap space size total from Node.js in bytes',
    (s) => s.space_size,
  );
  space(
    'nodejs_heap_space_size_used_bytes',
    'Process heap space size used from Node.js in bytes',
    (s) => s.space_used_size,
  );
  space(
    'nodejs_heap_space_size_available_bytes',
    'Process heap space size available from Node.js in bytes',
    (s) => s.space_available_size,
  );

  const delay = monitorEventLoopDelay({ resolution: 20 });
  delay.enable();
  const lag = (suffix: string, help: string, read: () => number) =>
    new Gauge({
      name: `nodejs_eventloop_lag_${suffix}_seconds`,
      help,
      registers,
      collect() {
        // Until the first sample the histogram reads as 0 / NaN: report 0.
        this.set(delay.count === 0 ? 0 : read() / 1e9);
      },
    });
  lag('min', 'The minimum recorded event loop delay', () => delay.min);
  lag('max', 'The maximum recorded event loop delay', () => delay.max);
  lag('mean', 'The mean of the recorded event loop delays', () => delay.mean);
  lag('p50', 'The 50th percentile of the recorded event loop delays', () => delay.percentile(50));
  lag('p99', 'The 99th percentile of the recorded event loop delays', () => delay.percentile(99));
  // Registered last, so the scrape reads the others first and then starts a new window.
  new Gauge({
    name: 'nodejs_eventloop_lag_samples',
    help: 'Event loop delay samples behind the lag figures (a new window starts at every scrape)',
    registers,
    collect() {
      this.set(delay.count);
      delay.reset();
    },
  });

  const gc = new Histogram<'kind'>({
    name: 'nodejs_gc_duration_seconds',
    help: 'Garbage collection duration by kind, one of major, minor, incremental or weakcb',
    labelNames: ['kind'] as const,
    buckets: [0.001, 0.01, 0.1, 1, 2, 5],
    registers,
  });
  const kinds: Record<number, string> = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weakcb' };
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as { detail?: { kind?: number } }).detail?.kind ?? 0;
      gc.observe({ kind: kinds[kind] ?? 'other' }, entry.duration / 1000);
    }
  }).observe({ entryTypes: ['gc'] });

  const [major, minor, patch] = process.versions.node.split('.');
  new Gauge({
    name: 'nodejs_version_info',
    help: 'Node.js version info',
    labelNames: ['version', 'major', 'minor', 'patch'] as const,
    registers,
  }).set({ version: process.version, major, minor, patch }, 1);
}

function openFds(): number | undefined {
  try {
    return readdirSync('/proc/self/fd').length - 1; // less the descriptor reading the directory
  } catch {
    return undefined; // not Linux
  }
}
