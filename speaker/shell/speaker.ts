import { GROUP, PLURALS, StatusLabels, VERSION } from '../../shared/api/names.ts';
import type {
  BFDProfile,
  BGPAdvertisement,
  BGPPeer,
  Community,
  IPAddressPool,
  L2Advertisement,
  NodeLike,
  SecretLike,
} from '../../shared/api/resources.ts';
import { buildConfig } from '../../shared/config/build-config.ts';
import { compareText } from '../../shared/config/names.ts';
import { nextConfig } from '../../shared/config/next-config.ts';
import { type Config, formatConfigError } from '../../shared/config/types.ts';
import { CoalescingTask } from '../../shared/daemon/coalescing-task.ts';
import { type EndpointsServer, serveEndpoints } from '../../shared/daemon/endpoints.ts';
import { EventRecorder, type EventTarget } from '../../shared/daemon/event-recorder.ts';
import type { HostPort } from '../../shared/daemon/host-port.ts';
import { InformerSet } from '../../shared/daemon/informer-set.ts';
import { isNotFound, type KubeClient } from '../../shared/k8s/client.ts';
import { Informer, type KubeObject } from '../../shared/k8s/informer.ts';
import type { Logger } from '../../shared/log/logger.ts';
import { type AnnounceFailure, announceFailures, appliedPlan } from '../announce/applied-plan.ts';
import { statusLabelValue } from '../announce/statuses.ts';
import type { NodePlan, PlanInput } from '../announce/types.ts';
import { BgpMetrics } from '../bgp/metrics.ts';
import type { SocketOptions } from '../bgp/socket-options.ts';
import { L2Announcer } from '../l2/io/announcer.ts';
import { registerL2Metrics } from '../l2/io/metrics.ts';
import { promMembershipMetrics } from '../membership/io/metrics.ts';
import { WorkerMembership } from '../membership/io/worker-membership.ts';
import { RejoinTracker } from '../membership/isolation/rejoin.ts';
import { isolationVerdict } from '../membership/isolation/split-brain.ts';
import { peersFromPods } from '../membership/peers/peers-from-pods.ts';
import { MembershipDefaults, MembershipFastest } from '../membership/protocol/config.ts';
import {
  desiredStatusObjects,
  nodeSelector,
  type SessionReport,
  type StatusObject,
  sessionStateObject,
} from '../status/status-objects.ts';
import { BgpManager } from './bgp-manager.ts';
import { handlesService, nodeFacts, SERVICE_NAME_LABEL, serviceFacts } from './facts.ts';
import { trimMallocEvery } from './malloc-trim.ts';
import { ensureMembershipSecret, keysFromSecret } from './membership-secret.ts';
import { SpeakerMetrics } from './metrics.ts';
import { type CachedObject, describe, StatusObjects } from './objects.ts';
import {
  type CachedEndpointSlice,
  type CachedNode,
  type CachedPod,
  type CachedSecret,
  type CachedService,
  trimConfigResource,
  trimEndpointSlice,
  trimNode,
  trimPod,
  trimSecret,
  trimService,
  trimStatusObject,
} from './trim.ts';

/** The planner: facts in, this node's plan out (speaker/announce). */
export type Planner = (input: PlanInput) => NodePlan;

/** How `metalbeacon speaker` runs; tests start it with the same options. */
export interface SpeakerOptions {
  /** The API client (shared/k8s/client.ts); the caller owns it: stop() and kill() leave it open. */
  readonly client: KubeClient;
  readonly nodeName: string;
  /** Namespace of the CRs, the membership Secret, the speaker Pods and the status objects. */
  readonly namespace: string;
  readonly log: Logger;
  readonly planner: Planner;
  /** Where /metrics, /healthz, /readyz listen (`HOST:PORT` text or parsed); undefined: no server. */
  readonly metricsListen?: string | HostPort | undefined;
  readonly membershipPort: number;
  /** Default `::`. */
  readonly membershipBindAddress?: string | undefined;
  readonly membershipSecret: string;
  readonly speakerSelector: string;
  readonly membershipProfile: 'default' | 'fast';
  readonly lbClass?: string | undefined;
  readonly excludeInterfaces?: RegExp | undefined;
  /** Seconds between GRACEFUL_SHUTDOWN and Cease on SIGTERM. */
  readonly bgpShutdownDrainSec: number;
  /** Port for incoming BGP connections; 0: active only. Default 179. */
  readonly bgpListenPort?: number;
  /** After telling the peers we leave, how long we keep answering while the new owner takes over. */
  readonly handoverMs?: number;
  /** Quiet time after an API change before the plan is recomputed. Membership changes replan at once. */
  readonly debounceMs?: number;
  readonly socketOptions?: SocketOptions | undefined;
  readonly now?: () => number;
}

/** A running speaker. */
export interface SpeakerHandle {
  readonly metrics: SpeakerMetrics;
  readonly metricsAddress: string | undefined;
  /** The first plan has been applied. */
  ready(): boolean;
  /** What the last plan really announced (after the split-brain guard, without what failed). */
  lastPlan(): NodePlan | undefined;
  /** Resolves when no plan and no status write is pending. */
  idle(): Promise<void>;
  /** Graceful: leave, handover window, BGP drain, withdraw, delete own objects. */
  stop(): Promise<void>;
  /** Stops without goodbye or cleanup, as a crash would look to the others. */
  kill(): Promise<void>;
  /** Resolves (after stopping) if a worker dies; the program should then exit non-zero. */
  readonly failed: Promise<Error>;
}

const COMPONENT = 'metalbeacon-speaker';
/** BGPSessionState plural; the CRD is config/crd/metalbeacon.io_bgpsessionstates.yaml. */
const SESSION_STATES = PLURALS.BGPSessionState;
const API_PROBE_TIMEOUT_MS = 1000;

/** Starts informers, membership, the announcers and the metrics server; applies plans until stopped. */
export async function startSpeaker(options: SpeakerOptions): Promise<SpeakerHandle> {
  const { namespace, nodeName } = options;
  const log = options.log.child({ node: nodeName });
  const now = options.now ?? Date.now;
  const { client } = options;
  const metrics = new SpeakerMetrics();
  const events = new EventRecorder({
    client,
    log,
    component: COMPONENT,
    now,
    aggregation: 'changes',
    maxInFlight: 4,
    maxBacklog: 5000,
    failureLevel: 'debug',
  });
  const objects = new StatusObjects(client, namespace, (verb, ok) =>
    metrics.statusWrites.inc({ verb, result: ok ? 'ok' : 'error' }),
  );
  const debounceMs = options.debounceMs ?? 100;
  const handoverMs = options.handoverMs ?? 1000;

  let stopping = false;
  let readyFlag = false;
  let config: Config | undefined;
  let configStale = false;
  let lastPlan: NodePlan | undefined;
  let isolated = false;
  /** Peers seen failing; one coming back means our L2 IPs are announced again. */
  const rejoins = new RejoinTracker();
  let reassertL2 = false;
  let knownPeers = 0;
  /** IP -> interfaces (joined) announced now */
  const l2Current = new Map<string, string>();
  const plans = new CoalescingTask({
    delayMs: debounceMs,
    retryMs: 1000,
    run: () => planOnce(),
    onError: (error) => log.error({ err: describe(error) }, 'applying the plan failed; retrying in 1 s'),
  });
  const statuses = new CoalescingTask({
    delayMs: 50,
    retryMs: 2000,
    run: () => syncStatus(),
    onError: (error) => log.warn({ err: describe(error) }, 'status write failed; retrying in 2 s'),
  });
  let sessionStatesMissing = false;
  /** BGPSessionState name -> status last written */
  const sessionStates = new Map<string, Record<string, unknown>>();
  /** Nodes whose speaker Pods we saw last time (for garbage collection of their objects) */
  let speakerNodesSeen = new Set<string>();
  let garbageCollectedOnce = false;
  /** While no peer is alive, the API server's reachability decides; keep it fresh. */
  let probeTimer: NodeJS.Timeout | undefined;
  let stopped: Promise<void> | undefined;
  /** Services this node announced at the last plan (for nodeAssigned events) */
  let assigned = new Set<string>();
  /** `service|topic` -> the announce failures of the last plan (for announceFailed events) */
  let failing = new Map<string, AnnounceFailure>();

  // ---- membership key, before anything that depends on it ------------------------------------
  const { secret, created } = await ensureMembershipSecret(client, namespace, options.membershipSecret);
  if (created)
    log.info({ secret: options.membershipSecret }, 'created the membership Secret with a random key');
  const keys = keysFromSecret(secret);

  // ---- informers ------------------------------------------------------------------------------
  // Each cache keeps only what the speaker reads (trim.ts): a Node's images, a Pod's containers
  // and every object's managedFields would otherwise make most of the speaker's memory.
  const crPath = (plural: string) => `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${plural}`;
  const informers = new InformerSet({ log, stopping: () => stopping });
  const configInformer = <T extends KubeObject>(plural: string) =>
    informers.add(plural, new Informer<T>(client, crPath(plural), { trim: trimConfigResource }));
  const services = informers.add(
    'services',
    new Informer<CachedService>(client, '/api/v1/services', { trim: trimService }),
  );
  const slices = informers.add(
    'endpointslices',
    new Informer<CachedEndpointSlice>(client, '/apis/discovery.k8s.io/v1/endpointslices', {
      trim: trimEndpointSlice,
    }),
  );
  const nodes = informers.add('nodes', new Informer<CachedNode>(client, '/api/v1/nodes', { trim: trimNode }));
  const pods = informers.add(
    'pods',
    new Informer<CachedPod>(client, `/api/v1/namespaces/${namespace}/pods`, {
      labelSelector: options.speakerSelector,
      trim: trimPod,
    }),
  );
  const secrets = informers.add(
    'secrets',
    new Informer<CachedSecret>(client, `/api/v1/namespaces/${namespace}/secrets`, { trim: trimSecret }),
  );
  const crs = {
    pools: configInformer<IPAddressPool>(PLURALS.IPAddressPool),
    l2: configInformer<L2Advertisement>(PLURALS.L2Advertisement),
    bgp: configInformer<BGPAdvertisement>(PLURALS.BGPAdvertisement),
    peers: configInformer<BGPPeer>(PLURALS.BGPPeer),
    communities: configInformer<Community>(PLURALS.Community),
    bfd: configInformer<BFDProfile>(PLURALS.BFDProfile),
  };
  // Only this node's status objects: every speaker watching every node's would cost O(nodes²).
  const mySelector = nodeSelector(nodeName);
  const ownObjects = (plural: string) =>
    informers.add(
      plural,
      new Informer<CachedObject>(client, crPath(plural), {
        labelSelector: mySelector,
        trim: trimStatusObject,
      }),
    );
  const l2Statuses = ownObjects(PLURALS.ServiceL2Status);
  const bgpStatuses = ownObjects(PLURALS.ServiceBGPStatus);

  // ---- configuration --------------------------------------------------------------------------
  function rebuildConfig(): void {
    const result = buildConfig(
      {
        pools: crs.pools.list(),
        l2Advertisements: crs.l2.list(),
        bgpAdvertisements: crs.bgp.list(),
        peers: crs.peers.list(),
        communities: crs.communities.list(),
        bfdProfiles: crs.bfd.list(),
        nodes: nodes.list().map(
          (n): NodeLike => ({
            metadata: { name: n.metadata?.name ?? '', labels: n.metadata?.labels ?? {} },
          }),
        ),
        secrets: secrets.list() as unknown as SecretLike[],
      },
      { namespace },
    );
    const next = nextConfig(config, result);
    const wasStale = configStale;
    config = next.config;
    configStale = next.stale;
    metrics.configLoaded.set(config ? 1 : 0);
    metrics.configStale.set(next.stale ? 1 : 0);
    if (next.errors.length > 0 && !wasStale) {
      log.warn(
        { errors: next.errors.map(formatConfigError) },
        config
          ? 'configuration rejected; the last good one stays'
          : 'configuration rejected; none loaded yet',
      );
    } else if (next.errors.length === 0 && wasStale) {
      log.info('configuration valid again');
    }
  }

  // ---- membership -----------------------------------------------------------------------------
  const profile = options.membershipProfile === 'fast' ? MembershipFastest : MembershipDefaults;
  function currentPeers() {
    const { peers, skipped } = peersFromPods(pods.list());
    for (const reason of skipped) log.debug({ reason }, 'speaker Pod is not a membership peer');
    knownPeers = peers.filter((p) => p.name !== nodeName).length;
    return peers;
  }

  informers.onChange(services, () => schedulePlan(debounceMs));
  informers.onChange(slices, () => schedulePlan(debounceMs));
  informers.onChange(nodes, () => {
    rebuildConfig();
    schedulePlan(debounceMs);
  });
  informers.onChange(secrets, (object) => {
    if (object.metadata?.name === options.membershipSecret) {
      log.warn('the membership Secret changed; speakers use the new keys after a restart');
    }
    rebuildConfig();
    schedulePlan(debounceMs);
  });
  for (const informer of Object.values(crs)) {
    informers.onChange(informer as Informer<KubeObject>, () => {
      rebuildConfig();
      schedulePlan(debounceMs);
    });
  }
  informers.onChange(l2Statuses, () => scheduleStatus());
  informers.onChange(bgpStatuses, () => scheduleStatus());

  /**
   * Start-up failed after the endpoints server or the informers started: stop them, or their
   * sockets keep the process alive.
   */
  async function abandon(error: unknown, ...closers: (() => Promise<unknown>)[]): Promise<never> {
    stopping = true;
    await Promise.all([plans.stop(), statuses.stop()]);
    for (const close of closers) await close().catch(() => undefined);
    informers.stop();
    await metricsServer?.close();
    throw error;
  }

  // ---- metrics server -------------------------------------------------------------------------
  // Before the informers: while their first LISTs fail, /healthz says the process lives and
  // /readyz that it is not ready.
  let metricsServer: EndpointsServer | undefined;
  if (options.metricsListen !== undefined) {
    metricsServer = await serveEndpoints({
      listen: options.metricsListen,
      registry: metrics.registry,
      ready: () => readyFlag && !stopping,
      onError: (error) => log.warn({ err: describe(error) }, 'metrics endpoint error'),
    });
    log.info({ address: metricsServer.address }, 'serving /metrics, /healthz, /readyz');
  }

  await informers.start().catch((error: unknown) => abandon(error));
  rebuildConfig();
  log.info(
    {
      services: services.list().length,
      nodes: nodes.list().length,
      speakers: pods.list().length,
      configLoaded: config !== undefined,
    },
    'caches synced',
  );

  // ---- announcers -----------------------------------------------------------------------------
  let fatal: Error | undefined;
  let reportFailure: (error: Error) => void = () => {};
  const failed = new Promise<Error>((resolve) => {
    reportFailure = resolve;
  });
  /**
   * The network thread died (the L2 packet worker and membership both run on it) or one of
   * them stopped: without heartbeats the peers take our IPs over, and without the L2 worker we
   * answer nothing, so staying up half-working would only hide it. Stop (no goodbye) and report;
   * the program exits non-zero and the DaemonSet restarts the speaker.
   */
  function die(what: string, error: Error): void {
    if (fatal) return;
    fatal = new Error(`${what}: ${describe(error)}`);
    log.fatal({ err: fatal.message }, `${what}; stopping so the speaker is restarted`);
    void kill().then(() => reportFailure(fatal!));
  }
  const l2 = await L2Announcer.start({
    logger: log.child({ component: 'l2' }),
    ...(options.excludeInterfaces ? { excludeInterfaces: options.excludeInterfaces } : {}),
    onFatal: (error) => die('the L2 packet worker (network thread) died', error),
  }).catch((error: unknown) => abandon(error));
  registerL2Metrics(metrics.registry, async () => (await l2.snapshot()).counters);
  const bgp = new BgpManager({
    log: log.child({ component: 'bgp' }),
    metrics: new BgpMetrics(metrics.registry),
    socketOptions: options.socketOptions,
    listenPort: options.bgpListenPort ?? 179,
    nodeAddresses: () => nodeAddresses(),
    onChange: () => scheduleStatus(),
    now,
  });

  const membership = await WorkerMembership.start({
    nodeName,
    keys,
    port: options.membershipPort,
    ...(options.membershipBindAddress ? { bindAddress: options.membershipBindAddress } : {}),
    peers: currentPeers(),
    heartbeatIntervalMs: profile.heartbeatIntervalMs,
    deadAfterMs: profile.deadAfterMs,
    tickMs: profile.tickMs,
    metrics: promMembershipMetrics(metrics.registry),
    logger: log,
  }).catch((error: unknown) => abandon(error, () => l2.close()));
  membership.on('error', (error) => die('membership (network thread) died', error));
  membership.on('alive-changed', (alive) => {
    log.info({ alive }, 'alive speakers changed');
    const back = rejoins.alive(alive);
    if (back.length > 0) {
      reassertL2 = true;
      log.info({ peers: back }, 'failed speakers are back; announcing our L2 IPs again after this plan');
    }
    schedulePlan(0);
  });
  membership.on('settled', (alive) => {
    log.info({ alive }, 'membership settled');
    schedulePlan(0);
  });
  membership.on('peer-failed', (peer, silentForMs) => {
    rejoins.failed(peer);
    log.warn({ peer, silentForMs }, 'speaker failed');
  });
  membership.on('peer-left', (peer) => {
    rejoins.left(peer);
    log.info({ peer }, 'speaker left');
  });
  informers.onChange(pods, () => {
    for (const problem of membership.setPeers(currentPeers()))
      log.warn({ problem }, 'membership peer skipped');
    schedulePlan(debounceMs);
    scheduleStatus();
  });

  function nodeAddresses(): string[] {
    const node = nodes.get(nodeName);
    const fromNode = (node?.status?.addresses ?? [])
      .filter((a) => a.type === 'InternalIP' || a.type === 'ExternalIP')
      .map((a) => a.address);
    const fromPod = pods
      .list()
      .filter((p) => p.spec?.nodeName === nodeName)
      .flatMap((p) => (p.status?.podIPs ?? []).map((i) => i.ip));
    return [...fromNode, ...fromPod];
  }

  // ---- planning -------------------------------------------------------------------------------

  function schedulePlan(delayMs: number): void {
    plans.schedule(delayMs);
  }

  function planInput(): PlanInput | undefined {
    if (!config) return undefined;
    /** `ns/service-name` -> its EndpointSlices */
    const slicesByService = new Map<string, CachedEndpointSlice[]>();
    for (const slice of slices.list()) {
      const service = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
      if (!service) continue;
      const key = `${slice.metadata?.namespace ?? ''}/${service}`;
      const list = slicesByService.get(key);
      if (list) list.push(slice);
      else slicesByService.set(key, [slice]);
    }
    const facts = services
      .list()
      .filter((s) => handlesService(s, options.lbClass))
      .map((s) =>
        serviceFacts(
          s,
          slicesByService.get(`${s.metadata?.namespace ?? ''}/${s.metadata?.name ?? ''}`) ?? [],
        ),
      )
      .sort((a, b) => compareText(a.key, b.key));
    return {
      nodeName,
      config,
      services: facts,
      nodes: nodes.list().map(nodeFacts),
      aliveNodes: new Set(membership.alive()),
    };
  }

  async function probeApi(): Promise<boolean> {
    try {
      // The deadline also frees the connection, so probes of a partition never pile up.
      await client.get('/version', undefined, API_PROBE_TIMEOUT_MS);
      return true;
    } catch {
      return false;
    }
  }

  function keepProbing(): void {
    if (probeTimer || stopping) return;
    probeTimer = setInterval(() => {
      const alivePeers = membership.alive().length - 1;
      if (stopping || knownPeers === 0 || alivePeers > 0) {
        clearInterval(probeTimer);
        probeTimer = undefined;
        return;
      }
      void probeApi().then((reachable) => {
        // Replan only when the verdict would change.
        if (reachable === isolated) schedulePlan(0);
      });
    }, 500);
    probeTimer.unref();
  }

  async function planOnce(): Promise<void> {
    if (stopping || !membership.settled) return;
    const input = planInput();
    if (!input) {
      if (!readyFlag) log.info('waiting for a valid configuration');
      return;
    }
    let plan: NodePlan;
    try {
      plan = options.planner(input);
    } catch (error) {
      log.error({ err: describe(error) }, 'the planner refused the input; keeping the current announcements');
      return;
    }
    const alivePeers = input.aliveNodes.size - (input.aliveNodes.has(nodeName) ? 1 : 0);
    let apiReachable = true;
    if (knownPeers > 0 && alivePeers === 0) {
      // Every peer looks dead: either they are, or we are the one cut off. Only a fresh answer
      // from the API server tells (watch events from before the cut prove nothing).
      apiReachable = await probeApi();
      keepProbing();
    }
    const verdict = isolationVerdict({ knownPeers, alivePeers, apiReachable });
    if (!verdict.shouldAnnounce) {
      if (!isolated) {
        log.warn(
          { knownPeers },
          'split-brain guard: no peer alive and the API server unreachable; withdrawing everything',
        );
        metrics.isolations.inc();
      }
      isolated = true;
      metrics.isolated.set(1);
      plan = { l2: [], peers: plan.peers.map((p) => ({ peer: p.peer, routes: [] })), skipped: plan.skipped };
    } else if (isolated) {
      isolated = false;
      metrics.isolated.set(0);
      log.info({ reason: verdict.reason }, 'split-brain guard lifted; announcing again');
    }
    if (stopping) return;
    const l2Failures = await applyL2(plan);
    if (reassertL2 && !isolated) {
      // Peers we saw fail saw us fail too and may have announced our IPs meanwhile.
      reassertL2 = false;
      await l2.reassert();
    }
    const problems = await bgp.apply(plan.peers);
    for (const [peer, message] of problems) {
      log.warn({ peer, problem: message }, 'BGP peer not started; retrying with the next plan');
      metrics.announceFailures.inc({ protocol: 'bgp' });
    }
    if (problems.size > 0 || l2Failures.size > 0) schedulePlan(5000);
    const failures = { l2: l2Failures, bgp: problems };
    postFailedEvents(announceFailures(plan, failures, nodeName));
    // Events, metrics and status objects tell what is announced, not what was meant to be.
    const applied = appliedPlan(plan, failures);
    lastPlan = applied;
    metrics.plansApplied.inc();
    updateAnnouncedMetrics(applied);
    if (!isolated) postAssignedEvents(applied);
    scheduleStatus();
    if (!readyFlag) {
      readyFlag = true;
      log.info(
        { l2: plan.l2.length, peers: plan.peers.length, alive: [...input.aliveNodes] },
        'speaker ready',
      );
    }
  }

  /** Returns the IPs it could not announce (IP -> why); they are tried again with the next plan. */
  async function applyL2(plan: NodePlan): Promise<Map<string, string>> {
    const failed = new Map<string, string>(); // IP -> why
    const desired = new Map(plan.l2.map((a) => [a.ip, a])); // IP -> announcement
    for (const [ip] of l2Current) {
      if (desired.has(ip)) continue;
      await l2.withdraw(ip);
      l2Current.delete(ip);
      log.info({ ip }, 'L2: withdrawn');
    }
    for (const [ip, announcement] of desired) {
      const interfaces = announcement.interfaces.join(',');
      if (l2Current.get(ip) === interfaces) continue;
      try {
        await l2.announce(ip, announcement.interfaces);
        l2Current.set(ip, interfaces);
        log.info({ ip, interfaces: interfaces || 'all', services: announcement.services }, 'L2: announcing');
      } catch (error) {
        metrics.announceFailures.inc({ protocol: 'layer2' });
        log.warn({ ip, err: describe(error) }, 'L2: cannot announce; retrying in 5 s');
        failed.set(ip, describe(error));
      }
    }
    return failed;
  }

  /**
   * One announceFailed per (Service, cause) while the cause lasts; a cause that cleared (the IP
   * announced, the peer started) is forgotten, so its coming back posts again.
   */
  function postFailedEvents(now: readonly AnnounceFailure[]): void {
    const next = new Map(now.map((f) => [`${f.service}|${f.topic}`, f]));
    for (const f of now) {
      const ref = serviceRef(f.service);
      if (ref) events.post(ref, { type: 'Warning', reason: 'announceFailed', message: f.message }, f.topic);
    }
    for (const [id, f] of failing)
      if (!next.has(id)) events.forget(serviceAt(f.service), 'announceFailed', f.topic);
    failing = next;
  }

  /** The Service of a `ns/name` key, as an event target (without uid). */
  function serviceAt(key: string): EventTarget {
    const slash = key.indexOf('/');
    return { apiVersion: 'v1', kind: 'Service', namespace: key.slice(0, slash), name: key.slice(slash + 1) };
  }

  /** The Service of a `ns/name` key as the cache has it; undefined when it is gone. */
  function serviceRef(key: string): EventTarget | undefined {
    const target = serviceAt(key);
    const service = services.get(target.name, target.namespace);
    return service ? { ...target, uid: service.metadata?.uid } : undefined;
  }

  /** Service key -> the nodeAssigned message last posted; only changes are posted. */
  function postAssignedEvents(plan: NodePlan): void {
    /** Service key -> what this node does for it */
    const doing = new Map<string, string[]>();
    const add = (key: string, text: string) => {
      const list = doing.get(key) ?? [];
      if (!list.includes(text)) list.push(text);
      doing.set(key, list);
    };
    for (const a of plan.l2) {
      for (const key of a.services)
        add(key, `layer2 ${a.ip}${a.interfaces.length > 0 ? ` on ${a.interfaces.join(',')}` : ''}`);
    }
    for (const p of plan.peers) {
      for (const route of p.routes)
        for (const key of route.services) add(key, `bgp ${route.prefix} to ${p.peer.name}`);
    }
    for (const [key, texts] of doing) {
      const ref = serviceRef(key);
      if (ref)
        events.post(ref, {
          type: 'Normal',
          reason: 'nodeAssigned',
          message: `announcing from node ${nodeName}: ${texts.sort().join('; ')}`,
        });
    }
    // A Service this node stopped announcing gets a fresh event if it comes back.
    for (const key of assigned) if (!doing.has(key)) events.forget(serviceAt(key), 'nodeAssigned');
    assigned = new Set(doing.keys());
  }

  function updateAnnouncedMetrics(plan: NodePlan): void {
    const l2Services = new Set(plan.l2.flatMap((a) => a.services));
    const bgpServices = new Set(plan.peers.flatMap((p) => p.routes.flatMap((r) => r.services)));
    const prefixes = new Set(plan.peers.flatMap((p) => p.routes.map((r) => r.prefix)));
    metrics.announcedServices.set({ protocol: 'layer2' }, l2Services.size);
    metrics.announcedServices.set({ protocol: 'bgp' }, bgpServices.size);
    metrics.announcedIps.set({ protocol: 'layer2' }, plan.l2.length);
    metrics.announcedIps.set({ protocol: 'bgp' }, prefixes.size);
  }

  // ---- status objects -------------------------------------------------------------------------

  function scheduleStatus(): void {
    statuses.schedule();
  }

  async function syncStatus(): Promise<void> {
    if (stopping || !lastPlan || isolated) return;
    const desired = desiredStatusObjects(lastPlan, nodeName);
    for (const [informer, plural] of [
      [l2Statuses, PLURALS.ServiceL2Status],
      [bgpStatuses, PLURALS.ServiceBGPStatus],
    ] as const) {
      const wanted = new Map<string, StatusObject>();
      for (const o of desired) if (o.plural === plural) wanted.set(o.name, o);
      // Ours and no longer wanted (also what an earlier run of this node left behind).
      for (const cached of informer.list()) {
        const name = cached.metadata?.name ?? '';
        if (!wanted.has(name)) await objects.delete(plural, name);
      }
      for (const object of wanted.values()) await objects.put(object, informer.get(object.name, namespace));
    }
    await syncSessionStates();
    await collectGarbage();
  }

  /**
   * Deletes the objects of nodes whose speaker Pod is gone (a crashed speaker cannot): all
   * owners without a Pod once at start, then the nodes whose Pod disappeared since.
   */
  async function collectGarbage(): Promise<void> {
    const speakerNodes = new Set(pods.list().map((p) => p.spec?.nodeName ?? ''));
    speakerNodes.add(nodeName);
    const plurals = [
      PLURALS.ServiceL2Status,
      PLURALS.ServiceBGPStatus,
      ...(sessionStatesMissing ? [] : [SESSION_STATES]),
    ];
    if (!garbageCollectedOnce) {
      // Status objects carry the node as a label value (hashed when too long for one).
      const alive = new Set([...speakerNodes].map(statusLabelValue));
      for (const plural of plurals) {
        for (const o of await objects.list(plural, StatusLabels.Node)) {
          const owner = o.metadata?.labels?.[StatusLabels.Node];
          if (owner !== undefined && !alive.has(owner)) await objects.delete(plural, o.metadata?.name ?? '');
        }
      }
      garbageCollectedOnce = true;
    } else {
      for (const node of speakerNodesSeen) {
        if (speakerNodes.has(node)) continue;
        for (const plural of plurals) {
          for (const o of await objects.list(plural, nodeSelector(node))) {
            await objects.delete(plural, o.metadata?.name ?? '');
          }
        }
      }
    }
    speakerNodesSeen = speakerNodes;
  }

  async function syncSessionStates(): Promise<void> {
    if (sessionStatesMissing) return;
    try {
      const reports = bgp.reports();
      const wanted = new Map(reports.map((r) => [`${nodeName}.${r.peer}`, r])); // name -> report
      for (const name of [...sessionStates.keys()]) {
        if (wanted.has(name)) continue;
        await objects.delete(SESSION_STATES, name);
        sessionStates.delete(name);
      }
      for (const [name, report] of wanted) {
        const object = sessionStateObject(nodeName, report);
        const previous = sessionStates.get(name);
        if (previous && JSON.stringify(previous) === JSON.stringify(object.status)) continue;
        await objects.put(
          object,
          previous ? { metadata: { name, labels: object.labels }, status: previous } : undefined,
        );
        sessionStates.set(name, { ...object.status });
      }
    } catch (error) {
      if (isNotFound(error) && (await sessionStateTypeMissing())) {
        sessionStatesMissing = true;
        log.warn('BGPSessionState CRD not installed; session states are not published');
        return;
      }
      throw error;
    }
  }

  async function sessionStateTypeMissing(): Promise<boolean> {
    try {
      await objects.list(SESSION_STATES, nodeSelector(nodeName));
      return false;
    } catch (error) {
      return isNotFound(error);
    }
  }

  /** Prefix counts change without state changes: publish them at most once a second. */
  const prefixTimer = setInterval(() => {
    for (const r of bgp.reports()) {
      const last = sessionStates.get(`${nodeName}.${r.peer}`);
      if (last && last.prefixesAdvertised !== r.prefixesAdvertised) {
        scheduleStatus();
        return;
      }
    }
  }, 1000);
  prefixTimer.unref();
  const stopTrimming = trimMallocEvery();

  // Objects a previous run of this speaker left behind are deleted by the first status sync
  // (they are ours and not wanted); session states are listed so the same happens to them.
  try {
    for (const o of await objects.list(SESSION_STATES, nodeSelector(nodeName))) {
      sessionStates.set(o.metadata?.name ?? '', { stale: true });
    }
  } catch (error) {
    if (isNotFound(error)) sessionStatesMissing = true;
    else {
      clearInterval(prefixTimer);
      stopTrimming();
      await abandon(
        error,
        () => membership.close(),
        () => l2.close(),
      );
    }
  }

  schedulePlan(0);

  async function idle(): Promise<void> {
    for (let i = 0; i < 1000; i++) {
      if (!plans.busy && !statuses.busy) break;
      await (plans.running ?? statuses.running ?? new Promise((resolve) => setTimeout(resolve, 20)));
    }
    await events.drained(2000);
  }

  async function shutdownCommon(): Promise<void> {
    stopping = true;
    if (probeTimer) clearInterval(probeTimer);
    clearInterval(prefixTimer);
    stopTrimming();
    await Promise.all([plans.stop(), statuses.stop()]);
  }

  async function closeRest(): Promise<void> {
    informers.stop();
    await metricsServer?.close();
  }

  async function kill(): Promise<void> {
    stopped ??= (async () => {
      await shutdownCommon();
      await membership.close();
      await bgp.abort();
      await l2.close();
      await closeRest();
    })();
    return stopped;
  }

  async function stop(): Promise<void> {
    stopped ??= (async () => {
      await shutdownCommon();
      log.info(
        { handoverMs, bgpDrainSec: options.bgpShutdownDrainSec },
        'leaving: handing over to the other speakers',
      );
      // BGP drains while L2 hands over: both bounded, in parallel.
      const drained = bgp.shutdown(options.bgpShutdownDrainSec * 1000, 'metalbeacon speaker shutting down');
      await membership.leave();
      // The new owners recompute on the leave at once and send gratuitous ARP / NA; we keep
      // answering meanwhile, so no request finds nobody.
      await new Promise((resolve) => setTimeout(resolve, handoverMs));
      log.info({ ips: [...l2Current.keys()] }, 'handover window over; withdrawing L2');
      await l2.close();
      l2Current.clear();
      await drained;
      await deleteOwnObjects();
      await events.drained(2000);
      await closeRest();
      log.info('speaker stopped');
    })();
    return stopped;
  }

  async function deleteOwnObjects(): Promise<void> {
    const selector = nodeSelector(nodeName);
    const plurals = [
      PLURALS.ServiceL2Status,
      PLURALS.ServiceBGPStatus,
      ...(sessionStatesMissing ? [] : [SESSION_STATES]),
    ];
    for (const plural of plurals) {
      try {
        for (const o of await objects.list(plural, selector))
          await objects.delete(plural, o.metadata?.name ?? '');
      } catch (error) {
        log.warn({ plural, err: describe(error) }, 'could not delete own status objects');
      }
    }
  }

  return {
    metrics,
    metricsAddress: metricsServer?.address,
    ready: () => readyFlag && !stopping && fatal === undefined,
    failed,
    lastPlan: () => lastPlan,
    idle,
    stop,
    kill,
  };
}

export type { SessionReport };
