import { loadNative } from '../../native/index.ts';

/** How often freed malloc memory goes back to the kernel: cheap (well under a millisecond here). */
export const TRIM_INTERVAL_MS = 10_000;

/**
 * Calls malloc_trim (native/memory.cc) every `intervalMs`, so the memory glibc keeps after a
 * burst (the initial lists, a relist, a wave of status writes) leaves the resident set instead
 * of staying there for good: 3 MB of a speaker holding 1,000 Services, and in a controller
 * what the reconnections and relists after API server restarts leave behind (private memory
 * that grew while the V8 heap, committed and used, did not). Without the addon (not
 * built, not Linux) there is nothing to call and nothing happens. Returns the stop function.
 */
export function trimMallocEvery(intervalMs = TRIM_INTERVAL_MS, trim = nativeTrim()): () => void {
  if (!trim) return () => {};
  const timer = setInterval(trim, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

function nativeTrim(): (() => boolean) | undefined {
  try {
    return loadNative().trimMalloc;
  } catch {
    return undefined;
  }
}
