/**
 * Blocks the event loop now and then, as garbage collection and a busy core do: every
 * 20–200 ms a pause of 0–30 ms, and one in ten a long one of up to `maxMs`. Returns a stop
 * function.
 */
export function startStalls(maxMs: number): () => void {
  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    timer = setTimeout(
      () => {
        const length = Math.random() < 0.1 ? maxMs * (0.66 + Math.random() / 3) : Math.random() * 30;
        const until = performance.now() + length;
        while (performance.now() < until) {
          // busy: nothing else runs in this process meanwhile
        }
        schedule();
      },
      20 + Math.random() * 180,
    );
  };
  schedule();
  return () => clearTimeout(timer);
}
