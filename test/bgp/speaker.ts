import assert from 'node:assert/strict';
import { logLines, startSpeaker } from '../../lab/bgp-speaker.ts';
import type { Lab, LabDaemon, LabLink } from '../../lab/netns.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import { startLan } from '../support/lan.ts';

/**
 * The LAN of the BGP interop tests: the peer's `router` (forwarding; 192.0.2.1, 2001:db8:0:1::1)
 * and our `node` (192.0.2.10, 2001:db8:0:1::10).
 */
export function startBgpLan(
  prefix: string,
): Promise<{ lab: Lab; links: Record<'router' | 'node', LabLink> }> {
  return startLan(prefix, {
    router: { ipv4: '192.0.2.1/24', ipv6: '2001:db8:0:1::1/64', router: true },
    node: { ipv4: '192.0.2.10/24', ipv6: '2001:db8:0:1::10/64' },
  });
}

/**
 * Runs `body` with `metalbeacon bgp` started in the `node` namespace with `args`, and stops the
 * speaker afterwards, also when `body` fails.
 */
export async function withSpeaker(
  lab: Lab,
  args: readonly string[],
  body: (speaker: LabDaemon) => Promise<void>,
): Promise<void> {
  const speaker = startSpeaker(lab, 'node', [...args]);
  try {
    await body(speaker);
  } finally {
    await speaker.stop();
  }
}

/** Our side (192.0.2.10, AS `localAs`) of a session with the router at 192.0.2.1, AS 65000. */
export function toRouter(localAs: string): string[] {
  return ['--local-as', localAs, '--peer', '192.0.2.1', '--peer-as', '65000', '--router-id', '192.0.2.10'];
}

/**
 * Reconnects from 1 s with the backoff capped at 2 s, what {@link assertBackoffGaps} measures,
 * and stops without waiting for a drain.
 */
export const FAST_RETRY = ['--connect-retry', '1', '--connect-retry-max', '2', '--drain-time', '0'];

/** Waits (30 s at most) until the speaker logged `count` lines `msg` (NOTIFICATION sent/received). */
export function notifications(
  daemon: LabDaemon,
  msg: string,
  count: number,
): Promise<Record<string, unknown>[]> {
  return waitFor(
    `${count} × ${msg}`,
    () => {
      const lines = logLines(daemon).filter((l) => l.msg === msg);
      return lines.length >= count && lines;
    },
    { timeoutMs: 30_000 },
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
