import assert from 'node:assert/strict';
import { metalbeaconEntry } from '../../lab/entry.ts';
import type { Lab, LabDaemon } from '../../lab/netns.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

/** Node 24 and the CLI entry point, as `npm run metalbeacon` runs them. */
export const NODE = `${ROOT}node_modules/.bin/node`;
export const METALBEACON = metalbeaconEntry();

/** Starts `metalbeacon bgp ARGS` in a lab namespace with JSON logs; `nodeArgs` go to node itself. */
export function startSpeaker(
  lab: Lab,
  ns: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  nodeArgs: readonly string[] = [],
): LabDaemon {
  const command = [NODE, ...nodeArgs, METALBEACON, '--log-format', 'json', '--log-level', 'debug', 'bgp'];
  return lab.spawn(ns, [...command, ...args], { env });
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

/** Waits (30 s at most) until the speaker logged `count` lines `msg` (NOTIFICATION sent/received). */
export function notifications(
  daemon: LabDaemon,
  msg: string,
  count: number,
): Promise<Record<string, unknown>[]> {
  return eventually(
    `${count} × ${msg}`,
    () => {
      const lines = logLines(daemon).filter((l) => l.msg === msg);
      return lines.length >= count && lines;
    },
    30_000,
  );
}

/**
 * Backoff from 1 s (`--connect-retry 1`), capped, jittered to 75-100 %: at least three
 * connection attempts and no two closer than 750 ms, from the log's own timestamps of the
 * entries into Connect. Load only lengthens the gaps, so the bound holds on a busy machine.
 */
export function assertBackoffGaps(lines: readonly Record<string, unknown>[]): void {
  const times = lines.filter((l) => l.to === 'Connect').map((l) => Number(l.time));
  const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
  assert.ok(gaps.length >= 2, `attempts: ${times.length}`);
  assert.ok(
    gaps.every((gap) => gap >= 750),
    `gaps between attempts (ms): ${gaps.join(', ')}`,
  );
}
