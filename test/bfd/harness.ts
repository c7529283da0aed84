import { fileURLToPath } from 'node:url';
import { NODE } from '../../lab/bgp-speaker.ts';
import type { Lab, LabDaemon, LinkAddresses } from '../../lab/netns.ts';
import { Bird } from '../../lab/peers/bird.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import type { BfdSessionSpec, BfdSnapshot, BfdTransition } from '../../speaker/bfd/engine/index.ts';
import { startLan } from '../support/lan.ts';

const FIXTURE = fileURLToPath(new URL('./bfd-node.ts', import.meta.url));

/** 50 ms x3: the fastest timers the tests use (150 ms Detection Time). */
export const FAST = {
  desiredMinTxUs: 50_000,
  requiredMinRxUs: 50_000,
  detectMult: 3,
  passive: false,
} as const;

/**
 * The LAN of the BFD tests: BIRD in `router` (192.0.2.1) with a BFD session to our `node`
 * (192.0.2.10) at the BFDProfile defaults (300 ms x3), and any `others` on the same bridge.
 */
export async function startBfdLan(
  prefix: string,
  others: Readonly<Record<string, LinkAddresses>> = {},
): Promise<{ lab: Lab; bird: Bird }> {
  const { lab } = await startLan(prefix, {
    router: { ipv4: '192.0.2.1/24' },
    node: { ipv4: '192.0.2.10/24' },
    ...others,
  });
  try {
    const bfd = { minRxMs: 300, minTxMs: 300, multiplier: 3, neighbors: [{ address: '192.0.2.10' }] };
    return { lab, bird: await Bird.start(lab, 'router', '192.0.2.1', [], {}, { bfd }) };
  } catch (error) {
    await lab.destroy();
    throw error;
  }
}

/** bfd-node.ts in a lab namespace: our BFD sessions in a process of their own, driven over stdin. */
export class BfdNode {
  readonly daemon: LabDaemon;
  #snapshots = 0;

  private constructor(daemon: LabDaemon) {
    this.daemon = daemon;
  }

  /** Starts it with the sessions on the network thread (`worker`) or on the main thread. */
  static async start(lab: Lab, ns: string, thread: 'worker' | 'main' = 'worker'): Promise<BfdNode> {
    const daemon = lab.spawn(ns, [NODE, FIXTURE, thread], { stdin: true });
    const node = new BfdNode(daemon);
    await node.waitLine('fixture ready', (l) => l.event === 'ready');
    return node;
  }

  /** Every JSON line printed so far. */
  lines(): Record<string, unknown>[] {
    return this.daemon
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
  }

  transitions(): BfdTransition[] {
    return this.lines().filter((l) => l.event === 'transition') as unknown as BfdTransition[];
  }

  /** Waits for a line matching `match` (the first one at or after index `from`). */
  async waitLine(
    what: string,
    match: (line: Record<string, unknown>) => boolean,
    options: { from?: number; timeoutMs?: number } = {},
  ): Promise<Record<string, unknown>> {
    return waitFor(
      what,
      () =>
        this.lines()
          .slice(options.from ?? 0)
          .find(match),
      {
        timeoutMs: options.timeoutMs ?? 15_000,
        intervalMs: 20,
      },
    );
  }

  set(specs: readonly BfdSessionSpec[]): void {
    this.daemon.child.stdin?.write(`${JSON.stringify({ set: specs })}\n`);
  }

  async snapshot(): Promise<BfdSnapshot> {
    const n = ++this.#snapshots;
    this.daemon.child.stdin?.write(`${JSON.stringify({ snapshot: true })}\n`);
    const line = await waitFor(
      `snapshot ${n}`,
      () => this.lines().filter((l) => l.event === 'snapshot')[n - 1],
      { intervalMs: 20 },
    );
    return line as unknown as BfdSnapshot;
  }

  /** Keeps the fixture's main thread busy for `ms`; resolves once it says it is done. */
  async block(ms: number): Promise<void> {
    const from = this.lines().length;
    this.daemon.child.stdin?.write(`${JSON.stringify({ block: ms })}\n`);
    await this.waitLine('the block to end', (l) => l.event === 'unblocked', { from, timeoutMs: ms + 15_000 });
  }

  /** Waits until the session `key` is in `state`. */
  async waitState(key: string, state: string, timeoutMs = 15_000): Promise<void> {
    await waitFor(
      `BFD session ${key} ${state}`,
      async () => (await this.snapshot()).sessions.find((s) => s.key === key)?.state === state,
      { timeoutMs, intervalMs: 50 },
    );
  }

  async stop(): Promise<void> {
    await this.daemon.stop(3_000);
  }
}
