import { trimMallocEvery } from '../../shared/daemon/malloc-trim.ts';
import { clusterHoldings } from '../announce/holdings.ts';
import { speakerBfd } from './bfd-events.ts';
import { BgpManager } from './bgp-manager.ts';
import { SpeakerCaches } from './caches.ts';
import { ConfigKeeper } from './config-keeper.ts';
import { apiAnswers, IsolationGuard } from './isolation-guard.ts';
import { L2Applier } from './l2-applier.ts';
import { Lifecycle } from './lifecycle.ts';
import { membershipKeys, SpeakerMembership, workerMembership } from './membership.ts';
import { SpeakerMetrics } from './metrics.ts';
import { StatusObjects } from './objects.ts';
import { type SpeakerHandle, type SpeakerOptions, withDefaults } from './options.ts';
import { PlanLoop } from './plan-loop.ts';
import { ServiceEvents, speakerRecorder } from './service-events.ts';
import { StatusWriter } from './status-writer.ts';

/**
 * The speaker daemon's wiring: which part starts when, and who triggers whom. Each part does one
 * job (docs/adr/0007-speaker-shell.md): caches.ts (informers), config-keeper.ts, membership.ts,
 * plan-loop.ts with isolation-guard.ts, l2-applier.ts and bgp-manager.ts, service-events.ts,
 * status-writer.ts with session-states.ts and status-garbage.ts, bfd-events.ts, lifecycle.ts
 * (stop orders).
 */
export async function startSpeaker(given: SpeakerOptions): Promise<SpeakerHandle> {
  const options = withDefaults(given);
  const { client, namespace, nodeName, now, timers, debounceMs } = options;
  const log = options.log.child({ node: nodeName });
  const metrics = new SpeakerMetrics();
  const life = new Lifecycle({ ...options, log, timers });
  const abandon = (error: unknown) => life.abandon(error);
  const stopping = () => life.stopping;
  const recorder = speakerRecorder({ client, log, now, timers });

  const caches = new SpeakerCaches({ ...options, log, stopping });
  const config = new ConfigKeeper({ namespace, inputs: () => caches.configInputs(), metrics, log });

  const metricsAddress = await life.serveEndpoints(options.metricsListen, metrics.registry);
  // The install makes the membership Secret; /healthz answers while the speaker waits for it.
  const keys = await membershipKeys(client, namespace, options.membershipSecret, log, timers).catch(abandon);
  life.started({ informers: caches.informers });
  await caches.sync().catch(abandon);
  config.rebuild();
  log.info({ ...caches.counts(), configLoaded: config.current !== undefined }, 'caches synced');

  // The announcers and membership. Their callbacks name parts made further down; they fire on
  // I/O only, and nothing is awaited between membership's start and the last of those parts.
  const l2 = await L2Applier.start({
    ...{ log, metrics, excludeInterfaces: options.excludeInterfaces },
    networkThreadPriority: options.networkThreadPriority,
    onFatal: (error) => life.die('the L2 packet worker (network thread) died', error),
  }).catch(abandon);
  life.started({ l2 });
  const bfd = speakerBfd({
    ...{ log, recorder, nodeName, namespace, registry: metrics.registry },
    peer: (name) => caches.crs.peers.get(name, namespace),
    profiles: () => config.current?.bfdProfiles ?? [],
    onFatal: (error) => life.die('BFD (network thread) died', error),
    changed: () => statuses.schedule(),
  });
  const bgp = new BgpManager({
    log,
    registry: metrics.registry,
    socketOptions: options.socketOptions,
    listenPort: options.bgpListenPort,
    nodeAddresses: () => caches.nodeAddresses(),
    onChange: () => statuses.schedule(),
    now,
    bfd,
  });
  life.started({ bgp });
  const membership = await SpeakerMembership.start({
    nodeName,
    log,
    pods: () => caches.pods.list(),
    nodes: () => caches.nodes.list(),
    replan: () => plans.schedule(0),
    onFatal: (error) => life.die('membership (network thread) died', error),
    start: workerMembership({ ...options, keys, registry: metrics.registry, log }),
  }).catch(abandon);
  life.started({ membership });

  // Planning, then what the speaker reports about it.
  const guard = new IsolationGuard({
    log,
    metrics,
    timers,
    peers: () => membership.peers(),
    probe: () => apiAnswers(client),
    lanUp: () => l2.lanUp(),
    replan: () => plans.schedule(0),
  });
  const plans = new PlanLoop({
    nodeName,
    log,
    metrics,
    timers,
    debounceMs,
    planner: options.planner,
    input: () => {
      const holdings = clusterHoldings(nodeName, l2.announced(), membership);
      return caches.planInput(config.current, membership.alive(), options.lbClass, holdings);
    },
    membership,
    guard,
    l2,
    bgp,
    events: new ServiceEvents({ recorder, nodeName, service: (ns, name) => caches.services.get(name, ns) }),
    onApplied: () => statuses.schedule(),
    stopping,
  });
  const statuses = StatusWriter.forNode({
    ...{ nodeName, namespace, log, timers, own: caches.own, stopping },
    objects: new StatusObjects(client, namespace, metrics.statusWrites),
    reports: () => bgp.reports(),
    pods: () => caches.pods.list(),
    plan: () => plans.lastPlan,
    isolated: () => guard.isolated,
  });
  statuses.start();
  const stopTrimming = trimMallocEvery();
  const stopPasswords = caches.refreshPasswordsEvery(timers, options.secretRefreshMs);
  life.started({
    ...{ plans, statuses, events: recorder },
    loops: [plans, statuses],
    stoppers: [() => guard.stop(), stopTrimming, stopPasswords],
  });

  // Who triggers whom. Changes during start-up reached no one: the rebuild and the first plan
  // below read the caches as they are now (level-triggered).
  const replan = () => plans.schedule(debounceMs);
  caches.react({
    replan,
    reconfigure: () => {
      config.rebuild();
      replan();
    },
    nodesChanged: () => membership.updatePeers(),
    restatus: () => statuses.schedule(),
    speakersChanged: () => {
      membership.updatePeers();
      replan();
      statuses.schedule();
    },
  });

  // What a previous run of this node left behind is deleted by the first status sync (ours and
  // not wanted); session states are listed so the same happens to them.
  await statuses.load().catch(abandon);
  config.rebuild();
  plans.schedule(0);

  return life.handle(metrics, metricsAddress, () => plans.lastPlan);
}
