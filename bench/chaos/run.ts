/**
 * A chaos run (issue 18): the lab topology with two controller replicas and three speakers, a
 * client probing an L2 VIP over IPv4 and IPv6 and a BGP VIP through the router every 20 ms, the
 * seeded plan of faults (one at a time, settle time between) and user's changes, the invariants
 * checked every observation round. Returns the cost per fault and the violations; the lab is
 * removed in every case.
 */
import { fileURLToPath } from 'node:url';
import { type Probe, startProbe } from '../../lab/probe.ts';
import { type NodeFlags, startTopology, type Topology } from '../../lab/topology.ts';
import { API_VERSION, DEFAULT_NAMESPACE } from '../../shared/api/names.ts';
import { churnPoolObjects } from './churn.ts';
import {
  ControllerPair,
  type FaultContext,
  faultLabel,
  resolvePeer,
  resolveTarget,
  runFault,
} from './faults.ts';
import { InvariantChecker, type Violation } from './invariants.ts';
import { addObserver, observe } from './observe.ts';
import { labProcesses, SoakSampler } from './sampler.ts';
import { buildPlan, CHURN_POOL, type ChurnAction, type FaultKind, type Plan } from './schedule.ts';
import type { Series } from './soak.ts';
import { type FaultCost, type FaultWindow, faultCosts, type ProbePath } from './table.ts';

const LAB_MANIFESTS = fileURLToPath(new URL('../../lab/manifests', import.meta.url));

/** Options of {@link runChaos}. */
export interface ChaosOptions {
  readonly seed: number;
  readonly minutes: number;
  /** Namespace prefix (unique per user of the lock: the CLI and the suite's test differ). */
  readonly prefix: string;
  readonly kinds?: readonly FaultKind[];
  /** The soak's gentle plan (schedule.ts). */
  readonly soak?: boolean;
  /** V8 flags of the daemons (lab/shipped-flags.ts for those deploy/ ships); default Node's. */
  readonly nodeFlags?: NodeFlags;
  /** Sample every process of the lab this often (sampler.ts); default: no sampling. */
  readonly sampleIntervalMs?: number;
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

/** What a run measured. */
export interface ChaosResult {
  readonly plan: Plan;
  readonly costs: FaultCost[];
  readonly violations: Violation[];
  /** Requests the probes sent in all. */
  readonly requests: number;
  /** Observation rounds that completed (the invariants were checked this often). */
  readonly observations: number;
  /**
   * Settled rounds, and in them the L2 IPs found answered and the BGP IPs found routed: shows the
   * settled rules had something to check.
   */
  readonly settled: { rounds: number; answeredIps: number; routedIps: number };
  /**
   * Rounds wholly inside a membership-port block past its bound, and in them the L2 IPs found
   * answered: shows the one-answerer rule of the block had something to check.
   */
  readonly blocked: { rounds: number; answeredIps: number };
  /** Rounds skipped because the API server did not answer (its restart, a stall). */
  readonly skippedObservations: number;
  /** Faults that failed to run (a process that did not come back...), with the error. */
  readonly faultErrors: string[];
  /** The samples per process, when sampling was asked for. */
  readonly soak?: Series[];
}

/** The probe's bound per request (lab/probe.ts default). */
const PROBE_TIMEOUT_MS = 500;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const urlOf = (ip: string) => (ip.includes(':') ? `http://[${ip}]/` : `http://${ip}/`);

/** Runs the plan of `seed` for `minutes` on a fresh lab. */
export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const log = options.log ?? (() => undefined);
  const durationMs = options.minutes * 60_000;
  const topo = await startTopology({
    prefix: options.prefix,
    manifests: [LAB_MANIFESTS],
    nodeFlags: options.nodeFlags,
  });
  const probes = new Map<ProbePath, Probe>();
  let sampler: SoakSampler | undefined;
  let cleaning: Promise<void> | undefined;
  const cleanUp = (): Promise<void> =>
    (cleaning ??= (async () => {
      await sampler?.stop();
      for (const probe of probes.values()) await probe.stop();
      await topo.stop();
    })());
  // Ctrl-C or a kill of a long run must not leave the lab's namespaces and processes behind.
  const onInterrupt = (): void => {
    void cleanUp().finally(() => process.exit(130));
  };
  process.once('SIGINT', onInterrupt);
  process.once('SIGTERM', onInterrupt);
  try {
    await addObserver(topo);
    const plan = buildPlan({
      seed: options.seed,
      durationMs,
      nodes: topo.nodes.map((n) => n.name),
      kinds: options.kinds,
      soak: options.soak,
    });
    log(`seed ${options.seed}: ${plan.faults.length} faults and ${plan.churn.length} user changes planned`);
    const controllers = new ControllerPair(topo);
    controllers.start();
    controllers.start();
    await Promise.all(topo.nodes.map((n) => topo.startSpeaker(n.name, [], { timeoutMs: 60_000 })));
    topo.createIngressService('chaos-l2', { pool: 'lab-dual', families: ['IPv4', 'IPv6'] });
    topo.createIngressService('chaos-bgp', { pool: 'lab-bgp', families: ['IPv4'] });
    const l2Ips = await topo.waitForServiceIps('chaos-l2', { timeoutMs: 60_000 });
    const [bgpIp] = await topo.waitForServiceIps('chaos-bgp', { timeoutMs: 60_000 });
    const l2v4 = l2Ips.find((ip) => !ip.includes(':'));
    const l2v6 = l2Ips.find((ip) => ip.includes(':'));
    if (!l2v4 || !l2v6 || !bgpIp)
      throw new Error(`chaos: VIPs missing (L2 ${l2Ips.join(', ')}, BGP ${bgpIp})`);
    const client = topo.lab.ns('client');
    for (const [path, ip] of [
      ['l2-v4', l2v4],
      ['l2-v6', l2v6],
      ['bgp-v4', bgpIp],
    ] as const) {
      probes.set(path, await startProbe({ namespace: client, url: urlOf(ip), timeoutMs: PROBE_TIMEOUT_MS }));
    }
    for (const [path, probe] of probes) {
      await probe.waitForGood(25, { timeoutMs: 60_000 }).catch((error: unknown) => {
        throw new Error(`chaos: ${path} not served before the first fault: ${(error as Error).message}`);
      });
    }
    log(`serving: L2 ${l2v4} and ${l2v6}, BGP ${bgpIp}; faults start`);
    if (options.sampleIntervalMs !== undefined) {
      sampler = new SoakSampler(
        (s) => labProcesses(topo, controllers, () => s.runnerStats()),
        options.sampleIntervalMs,
      );
      sampler.start();
    }
    const result = await drive({ topo, plan, probes, controllers, durationMs, log });
    await sampler?.stop();
    return sampler ? { ...result, soak: sampler.book.series() } : result;
  } finally {
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onInterrupt);
    await cleanUp();
  }
}

/** The run proper: fault loop, churn loop and observation loop side by side until time is up. */
async function drive(ctx: {
  topo: Topology;
  plan: Plan;
  probes: Map<ProbePath, Probe>;
  controllers: ControllerPair;
  durationMs: number;
  log: (line: string) => void;
}): Promise<ChaosResult> {
  const { topo, plan, probes, controllers, log } = ctx;
  const t0 = Date.now();
  const deadline = t0 + ctx.durationMs;
  const checker = new InvariantChecker();
  const violations: Violation[] = [];
  const windows: FaultWindow[] = [];
  const faultErrors: string[] = [];
  const unhealthy = new Set<string>();
  let fault: string | undefined;
  let oneAnswererFrom: number | undefined;
  let settledAt = Date.now();
  let done = false;
  let observations = 0;
  let skippedObservations = 0;
  const settled = { rounds: 0, answeredIps: 0, routedIps: 0 };
  const blocked = { rounds: 0, answeredIps: 0 };

  const faultCtx: FaultContext = {
    topo,
    controllers,
    l2Owner: () =>
      probes
        .get('l2-v4')
        ?.records()
        .filter((r) => r.ok)
        .at(-1)?.body,
    setUnhealthy: (node, yes) => (yes ? unhealthy.add(node) : unhealthy.delete(node)),
    setOneAnswererFrom: (atMs) => {
      oneAnswererFrom = atMs;
    },
  };
  const healthyNodes = () =>
    topo.nodes
      .filter(
        (n) =>
          !unhealthy.has(n.name) &&
          n.speaker &&
          n.speaker.child.exitCode === null &&
          n.speaker.child.signalCode === null,
      )
      .map((n) => n.name);

  const observeLoop = async (): Promise<void> => {
    while (!done) {
      const started = Date.now();
      try {
        const obs = await observe(topo, {
          settled: () => fault === undefined && Date.now() >= settledAt,
          fault: () => fault,
          healthyNodes,
          oneAnswerer: () => oneAnswererFrom !== undefined && Date.now() >= oneAnswererFrom,
        });
        observations++;
        if (obs.settled) {
          settled.rounds++;
          settled.answeredIps += [...obs.answerers.values()].filter((nodes) => nodes.length > 0).length;
          settled.routedIps += [...obs.routes.values()].filter((nodes) => nodes.length > 0).length;
        }
        if (obs.oneAnswerer) {
          blocked.rounds++;
          blocked.answeredIps += [...obs.answerers.values()].filter((nodes) => nodes.length > 0).length;
        }
        for (const v of checker.check(obs)) {
          violations.push(v);
          log(`VIOLATION [${v.rule}] ${v.detail} (fault: ${v.fault ?? 'none'}, seed ${plan.seed})`);
        }
      } catch (error) {
        skippedObservations++;
        if (fault === undefined) log(`observation skipped: ${(error as Error).message}`);
      }
      await sleep(Math.max(0, 2_000 - (Date.now() - started)));
    }
  };

  const churnLoop = async (): Promise<void> => {
    for (const step of plan.churn) {
      const wait = t0 + step.atMs - Date.now();
      if (wait > 0) await sleep(wait);
      if (done || Date.now() >= deadline) return;
      try {
        applyChurn(topo, step.action);
        const service = 'name' in step.action ? `default/${step.action.name}` : undefined;
        const pool = step.action.op.endsWith('-pool') ? CHURN_POOL : undefined;
        checker.userChanged({ atMs: Date.now(), service, pool });
        log(`user change: ${JSON.stringify(step.action)}`);
      } catch (error) {
        log(`user change ${JSON.stringify(step.action)} failed: ${(error as Error).message}`);
      }
    }
  };

  const faultLoop = async (): Promise<void> => {
    for (const step of plan.faults) {
      if (Date.now() + step.holdMs >= deadline) break;
      const node = resolveTarget(step, faultCtx);
      const peer = resolvePeer(step, node, faultCtx);
      const label = faultLabel(step, node, peer);
      const startMs = Date.now();
      fault = label;
      log(`fault ${label}`);
      try {
        await runFault(step, node, faultCtx, peer);
      } catch (error) {
        faultErrors.push(`${label}: ${(error as Error).message}`);
        log(`fault ${label} failed: ${(error as Error).message}`);
      }
      fault = undefined;
      settledAt = Date.now() + step.settleMs;
      await sleep(step.settleMs + step.quietMs);
      windows.push({ kind: step.kind, label, startMs, endMs: Date.now() });
      // A request started at the end of this window must not meet the next fault: it would
      // count for this one. The gap outlasts the probe's timeout.
      await sleep(PROBE_TIMEOUT_MS + 100);
    }
  };

  const observing = observeLoop();
  const churning = churnLoop();
  await faultLoop();
  const rest = deadline - Date.now();
  if (rest > 0) await sleep(rest);
  done = true;
  await Promise.all([observing, churning]);
  const records = Object.fromEntries([...probes].map(([path, probe]) => [path, probe.records()])) as Record<
    ProbePath,
    ReturnType<Probe['records']>
  >;
  return {
    plan,
    costs: faultCosts(windows, records),
    violations,
    requests: Object.values(records).reduce((sum, r) => sum + r.length, 0),
    observations,
    settled,
    blocked,
    skippedObservations,
    faultErrors,
  };
}

/** Makes one user's change through the API server. */
function applyChurn(topo: Topology, action: ChurnAction): void {
  switch (action.op) {
    case 'create-service':
    case 'change-service':
      topo.createIngressService(action.name, { pool: action.pool });
      return;
    case 'delete-service':
      topo.api.deleteObject('v1', 'Service', 'default', action.name);
      topo.api.deleteObject('discovery.k8s.io/v1', 'EndpointSlice', 'default', `${action.name}-v4`);
      return;
    case 'create-pool':
      topo.applyManifests(churnPoolObjects(0));
      return;
    case 'change-pool':
      topo.applyManifests(churnPoolObjects(action.variant));
      return;
    case 'delete-pool':
      for (const kind of ['L2Advertisement', 'IPAddressPool'])
        topo.api.deleteObject(API_VERSION, kind, DEFAULT_NAMESPACE, CHURN_POOL);
      return;
  }
}
