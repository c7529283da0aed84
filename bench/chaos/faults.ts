/**
 * The faults of a chaos run, done to the lab topology: each starts the fault, holds it for the
 * planned time and undoes it (a killed process is started again, a cut cable restored). Thin
 * shell over lab/topology.ts's hooks; which fault and when is schedule.ts's.
 */

import { controllerCommand } from '../../lab/metalbeacon-daemons.ts';
import type { LabDaemon } from '../../lab/netns.ts';
import type { Topology } from '../../lab/topology.ts';
import { DEFAULT_NAMESPACE } from '../../shared/api/names.ts';
import { DEFAULT_MEMBERSHIP_PORT } from '../../speaker/membership/protocol/config.ts';
import { MEMBERSHIP_BLOCK_BOUND_MS } from './invariants.ts';
import { blockPeer, PORT_UNBLOCK_ARGS, portBlockScript } from './port-block.ts';
import type { FaultKind, FaultStep } from './schedule.ts';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Two controller replicas with leader election, restarted by the runner when one is killed. */
export class ControllerPair {
  readonly #topo: Topology;
  readonly replicas: LabDaemon[] = [];
  #started = 0;

  constructor(topo: Topology) {
    this.#topo = topo;
  }

  /** Starts one replica (leader election on: the replicas share the Lease). */
  start(): LabDaemon {
    const name = `controller-${++this.#started}`;
    // In-cluster over HTTPS with the controller's token, as the install runs it.
    const daemon = this.#topo.lab.spawnHost(controllerCommand(this.#topo.nodeFlags), {
      logFile: `${this.#topo.runDir}/logs/${name}.log`,
      env: this.#topo.controllerEnv(),
    });
    this.replicas.push(daemon);
    return daemon;
  }

  /** The replica holding the Lease (identity `HOST_PID`), if it is one of ours and running. */
  async leader(): Promise<LabDaemon | undefined> {
    const lease = await this.#topo.getObject(
      `/apis/coordination.k8s.io/v1/namespaces/${DEFAULT_NAMESPACE}/leases/metalbeacon-controller`,
    );
    const holder = (lease?.spec as { holderIdentity?: string } | undefined)?.holderIdentity ?? '';
    const pid = Number(holder.split('_').at(-1));
    return this.replicas.find(
      (r) => r.pid === pid && r.child.exitCode === null && r.child.signalCode === null,
    );
  }

  /** Forgets replicas that exited. */
  prune(): void {
    for (let i = this.replicas.length - 1; i >= 0; i--) {
      const r = this.replicas[i] as LabDaemon;
      if (r.child.exitCode !== null || r.child.signalCode !== null) this.replicas.splice(i, 1);
    }
  }
}

/** What the runner gives a fault. */
export interface FaultContext {
  readonly topo: Topology;
  readonly controllers: ControllerPair;
  /** The node serving the L2 IPv4 VIP now (from the probe's latest good answer). */
  readonly l2Owner: () => string | undefined;
  /** Marks a node as not expected to announce (fault on it) or back. */
  readonly setUnhealthy: (node: string, unhealthy: boolean) => void;
  /**
   * From this time on (epoch ms), while the fault is in progress, every L2 IP must have one
   * answerer at most (the bound of a membership-port block); undefined: no such rule.
   */
  readonly setOneAnswererFrom: (atMs: number | undefined) => void;
}

/** The node a fault hits, or undefined for control-plane and router faults. */
export function resolveTarget(step: FaultStep, ctx: FaultContext): string | undefined {
  if (step.target.role === 'none') return undefined;
  if (step.target.role === 'node') return step.target.node;
  return ctx.l2Owner() ?? ctx.topo.nodes[0]?.name;
}

/** The other node of a membership-port block (see {@link FaultStep.peer}), else undefined. */
export function resolvePeer(
  step: FaultStep,
  node: string | undefined,
  ctx: FaultContext,
): string | undefined {
  if (step.peer === undefined || node === undefined) return undefined;
  return blockPeer(
    node,
    ctx.topo.nodes.map((n) => n.name),
    step.peer,
  );
}

/** A description for the report: `cable-cut on node-2 (hold 3200 ms)`, `membership-block on node-1 and node-3 (...)`. */
export function faultLabel(step: FaultStep, node: string | undefined, peer?: string): string {
  return `#${step.index} ${step.kind}${node ? ` on ${node}` : ''}${peer ? ` and ${peer}` : ''}${step.holdMs > 0 ? ` (hold ${step.holdMs} ms)` : ''}`;
}

type Runner = (
  ctx: FaultContext,
  node: string | undefined,
  holdMs: number,
  peer: string | undefined,
) => Promise<void>;

const need = (node: string | undefined, kind: FaultKind): string => {
  if (node === undefined) throw new Error(`chaos: fault ${kind} needs a node`);
  return node;
};

/** Busy loops in a node's namespace: the lab's nodes share the machine's cores, so they starve it all. */
async function saturateCpu(topo: Topology, node: string, holdMs: number): Promise<void> {
  const loops = [0, 1].map(() => topo.lab.spawn(node, [process.execPath, '-e', 'for (;;) {}']));
  try {
    await sleep(holdMs);
  } finally {
    await Promise.all(loops.map((l) => l.kill('SIGKILL', 1_000)));
  }
}

/**
 * Two nodes stop hearing each other on the membership port (each drops the other's datagrams),
 * the LAN intact; from the bound on, one answerer per L2 IP is required while it lasts.
 */
async function blockMembership(ctx: FaultContext, a: string, b: string, holdMs: number): Promise<void> {
  const { topo } = ctx;
  const pair = [topo.node(a), topo.node(b)] as const;
  const blocked: string[] = [];
  try {
    for (const [node, peer] of [pair, [pair[1], pair[0]]] as const) {
      await topo.lab.exec(node.short, ['nft', portBlockScript(peer, DEFAULT_MEMBERSHIP_PORT)]);
      blocked.push(node.short);
    }
    ctx.setOneAnswererFrom(Date.now() + MEMBERSHIP_BLOCK_BOUND_MS);
    await sleep(holdMs);
  } finally {
    // Lifted before the rules go: the unblocking is a change of its own (settle time after).
    ctx.setOneAnswererFrom(undefined);
    for (const node of blocked) await topo.lab.exec(node, ['nft', ...PORT_UNBLOCK_ARGS]);
  }
}

const RUNNERS: Record<FaultKind, Runner> = {
  async 'speaker-sigkill'({ topo, setUnhealthy }, node, holdMs) {
    const n = need(node, 'speaker-sigkill');
    setUnhealthy(n, true);
    await topo.stopSpeaker(n, 'SIGKILL');
    await sleep(holdMs);
    await topo.startSpeaker(n, [], { timeoutMs: 60_000 });
    setUnhealthy(n, false);
  },
  async 'speaker-restart'({ topo, setUnhealthy }, node) {
    const n = need(node, 'speaker-restart');
    setUnhealthy(n, true);
    await topo.restartSpeaker(n);
    setUnhealthy(n, false);
  },
  async 'cable-cut'({ topo, setUnhealthy }, node, holdMs) {
    const n = need(node, 'cable-cut');
    setUnhealthy(n, true);
    // A pulled cable: the node loses the LAN and, with it, the API server.
    await topo.cutLink(n);
    await topo.isolateFromApi(n);
    await sleep(holdMs);
    await topo.restoreLink(n);
    await topo.reconnectApi(n);
    setUnhealthy(n, false);
  },
  async 'link-flap'({ topo, setUnhealthy }, node, holdMs) {
    const n = need(node, 'link-flap');
    setUnhealthy(n, true);
    await topo.cutLink(n);
    await sleep(holdMs);
    await topo.restoreLink(n);
    setUnhealthy(n, false);
  },
  async 'controller-kill'({ controllers }, _node, holdMs) {
    const leader = await controllers.leader();
    if (!leader) throw new Error('chaos: no controller holds the Lease');
    await leader.kill('SIGKILL');
    controllers.prune();
    await sleep(holdMs);
    controllers.start();
  },
  async 'apiserver-restart'({ topo }, _node, holdMs) {
    await topo.api.restart({ downMs: holdMs });
  },
  async 'watch-cut'({ topo }) {
    topo.api.cutWatches();
  },
  async 'bird-restart'({ topo }, _node, holdMs) {
    await topo.restartBird(holdMs);
  },
  async 'cpu-saturate'({ topo }, node, holdMs) {
    await saturateCpu(topo, need(node, 'cpu-saturate'), holdMs);
  },
  async 'membership-block'(ctx, node, holdMs, peer) {
    const a = need(node, 'membership-block');
    if (peer === undefined) throw new Error('chaos: fault membership-block needs a second node');
    await blockMembership(ctx, a, peer, holdMs);
  },
};

/** Does one fault: start, hold, undo. Resolves when it is undone. */
export function runFault(
  step: FaultStep,
  node: string | undefined,
  ctx: FaultContext,
  peer?: string,
): Promise<void> {
  return RUNNERS[step.kind](ctx, node, step.holdMs, peer);
}
