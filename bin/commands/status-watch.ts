import { CoalescingTask } from '../../shared/daemon/coalescing-task.ts';
import type { KubeClient } from '../../shared/k8s/client.ts';
import { StatusWatch } from '../../shared/k8s/status-watch.ts';
import type { Logger } from '../../shared/log/logger.ts';
import { buildStatusReport, type StatusInput } from '../../shared/status/report.ts';
import { currentTrouble, type Failure, watchFrame, watchJsonLine } from '../../shared/status/watch-frame.ts';

export interface WatchOptions {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly lbClass: string | undefined;
  readonly output: 'table' | 'json';
  /** What one list showed (`metalbeacon status`'s own), drawn until the caches have listed. */
  readonly initial: StatusInput;
  readonly log: Logger;
  readonly out: NodeJS.WriteStream;
  /** Resolves when the user wants to stop (Ctrl-C). */
  readonly stopped: Promise<void>;
}

/** Changes within this window make one frame (a Service and its status objects change together). */
const COALESCE_MS = 100;
/** How often the terminal view redraws for its ages, and how often failures are re-checked. */
const TICK_MS = 1000;
/** A failure not repeated within this long is over (the informers retry every second). */
const TROUBLE_WINDOW_MS = 3000;

/** First line of an error, for the header. */
function reason(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}

/**
 * `metalbeacon status --watch`: the report redrawn from informers' caches on every change. A
 * terminal gets one screen redrawn in place (the alternate screen, restored on exit, as
 * `watch` and `top` do) and every second for the ages; a pipe gets a frame per change, and with
 * `-o json` one JSON document per line. Failing lists and watches are named in the header
 * until they recover; the view keeps the last good data meanwhile.
 */
export async function watchStatus(options: WatchOptions): Promise<void> {
  const terminal = options.out.isTTY === true && options.output === 'table';
  const failures = new Map<string, Failure>();
  let lastTrouble = '';
  let synced = false;
  const watch = new StatusWatch({
    client: options.client,
    namespace: options.namespace,
    lbClass: options.lbClass,
    log: options.log,
    onChange: () => redraw.schedule(),
    onError: (what, error) => {
      failures.set(what, { message: reason(error), atMs: Date.now() });
      redraw.schedule();
    },
  });
  const draw = (): void => {
    const now = Date.now();
    const trouble = currentTrouble(failures, now, TROUBLE_WINDOW_MS);
    lastTrouble = trouble.join('\n');
    const report = buildStatusReport(synced ? watch.input() : options.initial);
    options.out.write(
      options.output === 'json'
        ? watchJsonLine(report)
        : watchFrame(report, {
            nowMs: now,
            terminal,
            width: terminal ? options.out.columns : Number.POSITIVE_INFINITY,
            trouble,
          }),
    );
  };
  const redraw = new CoalescingTask({
    delayMs: COALESCE_MS,
    run: async () => draw(),
    retryMs: TICK_MS,
    onError: (error) => options.log.error({ err: reason(error) }, 'cannot draw the status'),
  });
  // A pipe gets a new frame only when something changed: a change, or a failure begun or over.
  const tick = setInterval(() => {
    const trouble = currentTrouble(failures, Date.now(), TROUBLE_WINDOW_MS).join('\n');
    if (terminal || trouble !== lastTrouble) redraw.schedule(0);
  }, TICK_MS);
  const onResize = (): void => redraw.schedule(0);
  if (terminal) {
    options.out.write('\x1b[?1049h');
    options.out.on('resize', onResize);
  }
  try {
    draw();
    await Promise.race([
      watch.start().then(() => {
        synced = true;
        redraw.schedule(0);
      }),
      options.stopped,
    ]);
    await options.stopped;
  } finally {
    clearInterval(tick);
    redraw.stop();
    watch.stop();
    if (terminal) {
      options.out.off('resize', onResize);
      options.out.write('\x1b[?1049l');
    }
  }
}
