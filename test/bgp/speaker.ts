import type { Lab, LabDaemon } from '../lab/netns.ts';
import { metalbeaconEntry } from '../tools/entry.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

/** Node 24 and the CLI entry point, as `npm run metalbeacon` runs them. */
export const NODE = `${ROOT}node_modules/.bin/node`;
export const METALBEACON = metalbeaconEntry();

/** Starts `metalbeacon bgp ARGS` in a lab namespace with JSON logs. */
export function startSpeaker(
  lab: Lab,
  ns: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): LabDaemon {
  return lab.spawn(ns, [NODE, METALBEACON, '--log-format', 'json', '--log-level', 'debug', 'bgp', ...args], {
    env,
  });
}

/** The speaker's JSON log lines parsed (non-JSON lines skipped). */
export function logLines(daemon: LabDaemon): Record<string, unknown>[] {
  return daemon
    .output()
    .split('\n')
    .flatMap((line) => {
      if (!line.startsWith('{')) return [];
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}

/** Polls `check` every `everyMs` until it returns a value other than undefined/false. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 15_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/**
 * Gaps (ms, from the log's own timestamps) between the session's successive entries into
 * Connect: the connection attempts. Load only lengthens them, so a lower bound is a fair check
 * that backoff holds (no connection storm) on a busy machine.
 */
export function connectAttemptGapsMs(lines: readonly Record<string, unknown>[]): number[] {
  const times = lines.filter((l) => l.to === 'Connect').map((l) => Number(l.time));
  return times.slice(1).map((t, i) => t - (times[i] as number));
}
