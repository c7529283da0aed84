/**
 * Go `time.ParseDuration` syntax, as MetalLB's metav1.Duration fields use it: a sequence of
 * decimal numbers with units (`90s`, `1m30s`, `1.5h`, `300ms`), or `0`.
 */

// unit -> milliseconds
const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Milliseconds in the duration, or undefined when the text is not a non-negative Go duration. */
export function parseDurationMs(text: string): number | undefined {
  if (text === '0') return 0;
  const part = /([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let match = part.exec(text); match; match = part.exec(text)) {
    total += Number(match[1]) * (UNIT_MS[match[2] as string] ?? Number.NaN);
    consumed = part.lastIndex;
  }
  if (consumed === 0 || consumed !== text.length || !Number.isFinite(total)) return undefined;
  return total;
}
