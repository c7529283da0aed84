/**
 * Waits until `check` returns a value other than undefined, polling every `intervalMs`
 * (default 50); throws after `timeoutMs` (default 10 s). For the lab, the tests and the
 * benchmarks, which wait for processes and objects they started; the daemons never poll.
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`lab: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
}
