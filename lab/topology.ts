/**
 * The DESIGN.md lab topology, built on {@link Lab}: a LAN bridge, a client, three nodes and a
 * BIRD router, the embedded API server reachable from every node namespace (plain HTTP on
 * 127.0.0.1:6443 for people and tests; HTTPS on 127.0.0.1:443 with its own CA for the programs,
 * which run in-cluster with a ServiceAccount token mount each, as in a real install), the Kubernetes
 * objects a cluster would have (Nodes, speaker Pods, the membership Secret), an ingress on every
 * node (nginx in front of app-a and app-b, or the minimal stand-in answering the node name), and
 * helpers to run the controller and speakers and to break things.
 * Used by `metalbeacon lab`, the end-to-end tests and the failover benchmark.
 *
 * ```
 *                        LAN 192.0.2.0/24, 2001:db8:0:1::/64 (bridge namespace "lan")
 *   client .10 ──┬── node-1 .11 ── node-2 .12 ── node-3 .13 ── router .1 (BIRD, AS 64513)
 *   client eth1 ─┴──────────── far side 203.0.113.0/24 ─────────── router eth1 .1
 * ```
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readManifests } from '../apiserver/manifests.ts';
import { type ApiServerHandle, startApiServer } from '../apiserver/server.ts';
import type { KubeObject } from '../apiserver/types.ts';
import { DEFAULT_NAMESPACE } from '../shared/api/names.ts';
import { waitFor } from '../shared/runtime/wait-for.ts';
import { LAB_ADDRESSES } from './address-plan.ts';
import type { ApiForwarder } from './api-forwarder.ts';
import { type CurlResult, curlFrom } from './curl.ts';
import { buildLabNetwork } from './lab-network.ts';
import { MetalBeaconDaemons, type NodeFlags } from './metalbeacon-daemons.ts';
import { Lab, type LabDaemon, type LabOptions } from './netns.ts';
import { startNodeServices, type TopologyNode } from './node-services.ts';
import {
  type IngressServiceOptions,
  ingressServiceObjects,
  type LabNodeInfo,
  membershipSecretObject,
  nodeObject,
  speakerPodObject,
} from './objects.ts';
import type { BirdBfd, BirdBfdSession, BirdRoute, KernelRoute } from './router.ts';
import { LAB_BFD, LabRouter, type RouterChanges } from './router-daemon.ts';
import { LAB_RUN_DIR } from './state.ts';

// The topology's plan and parts, for who builds on a topology without knowing where each lives.
export { LAB_ADDRESSES } from './address-plan.ts';
export { METALBEACON_BIN, type NodeFlags } from './metalbeacon-daemons.ts';
export type { TopologyNode } from './node-services.ts';
export { LAB_BFD } from './router-daemon.ts';

const REPO = fileURLToPath(new URL('../', import.meta.url));

/** Options of {@link startTopology}. */
export interface TopologyOptions {
  /** Namespace name prefix, unique per test file (2-12 lower-case letters/digits). */
  prefix: string;
  /** Number of nodes (1-9), default 3: node-1..node-N. */
  nodes?: number;
  /**
   * Service ranges the client reaches through the router's far side (BGP); the rest of
   * 198.51.100.0/24 and 2001:db8:100::/120 is on-link on the client's LAN interface (L2).
   * Default {@link LAB_ADDRESSES.bgpRanges}.
   */
  bgpRanges?: readonly string[];
  /** Extra manifests (files/directories) applied after the CRDs and the namespace. */
  manifests?: readonly string[];
  /** Node labels, per node name. */
  nodeLabels?: Record<string, Record<string, string>>;
  /** Hold time BIRD proposes (s), default 9 (a cut link drops BGP routes within it). */
  birdHoldTimeSec?: number;
  /**
   * BIRD's BFD with every node, default {@link LAB_BFD} (the lab's BFDProfile lab-bfd in
   * lab/manifests); null: none.
   */
  birdBfd?: BirdBfd | null;
  /** Progress lines (e.g. for `metalbeacon lab`); default silent. */
  log?: (line: string) => void;
  /** Directory for sockets, kubeconfigs, BIRD config and the state file. Default /run/metalbeacon-lab/PREFIX. */
  runDir?: string;
  /** Aborts the build between steps (Ctrl-C in `metalbeacon lab`); what was made is removed. */
  signal?: AbortSignal;
  /** Daemons in their own process groups (see {@link LabOptions.detachDaemons}); `metalbeacon lab` sets it. */
  detachDaemons?: boolean;
  /** Called for each request the embedded API server answers (the benchmark counts them). */
  onApiRequest?: (method: string, path: string, status: number) => void;
  /**
   * What serves port 80 on every node: `nginx` (Debian's nginx routing /app-a to app-a and Host
   * b.example to app-b, `ingress-nginx.ts`; what `metalbeacon lab` runs) or `stand-in` (default:
   * one minimal responder answering the node name, for the tests and benchmarks).
   */
  ingress?: 'nginx' | 'stand-in';
  /**
   * V8 flags for the daemons the topology starts (`node FLAGS metalbeacon ...`), default none
   * (Node's defaults); a speaker started with its own `nodeArgs` uses those. What deploy/ ships
   * is lab/shipped-flags.ts (bundle only: lite mode has no WebAssembly for type stripping).
   */
  nodeFlags?: NodeFlags;
}

/** A running topology; `stop()` (or `await using`) removes everything. */
export interface Topology {
  readonly lab: Lab;
  readonly prefix: string;
  readonly runDir: string;
  /** The V8 flags the topology starts daemons with ({@link TopologyOptions.nodeFlags}). */
  readonly nodeFlags: NodeFlags;
  readonly api: ApiServerHandle;
  /** kubeconfig for the host namespace (the API server's own address). */
  readonly kubeconfig: string;
  /** The controller's ServiceAccount mount. */
  readonly controllerServiceAccountDir: string;
  readonly nodes: readonly TopologyNode[];
  /** Short namespace names. */
  readonly client: 'client';
  readonly router: 'router';
  /** BIRD as running now ({@link Topology.restartBird} replaces it). */
  readonly bird: LabDaemon;
  /** The controller, when started. */
  readonly controller: LabDaemon | undefined;
  node(name: string): TopologyNode;
  /** Applies manifests (paths or parsed objects) as `kubectl apply` would, CRDs first. */
  applyManifests(input: readonly string[] | readonly KubeObject[]): KubeObject[];
  /** Creates a LoadBalancer Service and its EndpointSlices (on `endpointNodes`, default all). */
  createIngressService(name: string, options?: IngressServiceOptions): KubeObject;
  /** Replaces the EndpointSlices of an ingress Service so only `nodes` serve it. */
  setEndpoints(name: string, nodes: readonly string[], options?: IngressServiceOptions): void;
  /** GET of an API path (e.g. `/api/v1/namespaces/default/services/web`); undefined on 404. */
  getObject(path: string): Promise<KubeObject | undefined>;
  /** The IPs in a Service's status.loadBalancer.ingress (empty until assigned). */
  serviceIps(name: string, namespace?: string): Promise<string[]>;
  /** Waits until the Service has `count` ingress IPs (default: one per family). */
  waitForServiceIps(
    name: string,
    options?: { namespace?: string; count?: number; timeoutMs?: number },
  ): Promise<string[]>;
  /** A controller Pod's environment: in-cluster over HTTPS with the controller's ServiceAccount mount. */
  controllerEnv(): NodeJS.ProcessEnv;
  /** Starts `metalbeacon controller` in the host namespace (single replica, no election by default). */
  startController(extraArgs?: readonly string[]): Promise<LabDaemon>;
  stopController(signal?: NodeJS.Signals): Promise<void>;
  /** Starts `metalbeacon speaker` in the node's namespace; waits for "speaker ready" unless `wait: false`. */
  startSpeaker(
    node: string,
    extraArgs?: readonly string[],
    /** `nodeArgs`: flags for node itself (V8's, e.g. `--lite-mode`), before the program. */
    options?: { wait?: boolean; timeoutMs?: number; nodeArgs?: readonly string[] },
  ): Promise<LabDaemon>;
  /** Signals the node's speaker (default SIGTERM) and waits for it to exit (SIGKILL after 10 s). */
  stopSpeaker(
    node: string,
    signal?: NodeJS.Signals,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Stops (SIGTERM) and starts the node's speaker again with the same arguments. */
  restartSpeaker(node: string): Promise<LabDaemon>;
  /** Pulls the node's LAN cable (bridge port down). */
  cutLink(node: string): Promise<void>;
  restoreLink(node: string): Promise<void>;
  /**
   * Writes a new token into a ServiceAccount mount (a node's speaker, or 'controller') and
   * revokes the old one at once, under the running program.
   */
  rotateToken(component: string): string;
  /** Cuts the node off the API server (every open connection too); the LAN stays up. */
  isolateFromApi(node: string): Promise<void>;
  reconnectApi(node: string): Promise<void>;
  /** One HTTP GET with curl inside a namespace (`client`, a node...); `host` sets the Host header. */
  curlFrom(ns: string, url: string, options?: { timeoutMs?: number; host?: string }): Promise<CurlResult>;
  /** BIRD's routes (all paths) for prefixes within `prefix` (`198.51.100.0/24`), or all. */
  birdRoutes(prefix?: string): Promise<BirdRoute[]>;
  /** The router's kernel routes installed by BIRD (ECMP next hops) within `prefix`. */
  kernelRoutes(family: 'IPv4' | 'IPv6', prefix?: string): Promise<KernelRoute[]>;
  /** `birdc ARGS` in the router namespace; stdout. */
  birdc(args: readonly string[]): Promise<string>;
  /**
   * Stops BIRD (SIGTERM: it closes its sessions and removes its kernel routes), waits `downMs`,
   * starts it again with the same configuration and waits until it answers; `bird` is the new one.
   */
  restartBird(downMs?: number): Promise<void>;
  /**
   * Rewrites the router's BIRD configuration with these changes (hold time, BFD with every
   * node) and applies it (`birdc configure`).
   */
  configureRouter(changes: RouterChanges): Promise<void>;
  /** BIRD's BFD sessions (`show bfd sessions`). */
  birdBfdSessions(): Promise<BirdBfdSession[]>;
  /** Stops every daemon, deletes namespaces, sockets and files. Safe to call twice. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Builds the topology; on any failure everything made so far is removed before the throw. */
export async function startTopology(options: TopologyOptions): Promise<Topology> {
  const say = options.log ?? (() => undefined);
  const log = (line: string): void => {
    options.signal?.throwIfAborted();
    say(line);
  };
  const prefix = options.prefix;
  const runDir = options.runDir ?? `${LAB_RUN_DIR}/${prefix}`;
  const nodeCount = options.nodes ?? 3;
  if (!Number.isInteger(nodeCount) || nodeCount < 1 || nodeCount > 9) {
    throw new Error(`topology: nodes must be 1-9, got ${nodeCount}`);
  }
  const lab = await Lab.create(prefix, {
    stateFile: `${runDir}/state.json`,
    detachDaemons: options.detachDaemons ?? false,
  });
  mkdirSync(`${runDir}/logs`, { recursive: true, mode: 0o700 });
  lab.track(runDir);
  let api: ApiServerHandle | undefined;
  const forwarders: ApiForwarder[] = [];
  try {
    log('network: LAN bridge, client, router, nodes');
    const network = await buildLabNetwork(lab, {
      nodeCount,
      bgpRanges: options.bgpRanges,
      signal: options.signal,
    });

    log('BIRD router: eBGP with every node, ECMP into the kernel');
    const router = await LabRouter.start(lab, runDir, {
      routerId: LAB_ADDRESSES.router.ipv4,
      localAddress: LAB_ADDRESSES.router.ipv4,
      localAs: LAB_ADDRESSES.routerAs,
      peerAs: LAB_ADDRESSES.nodeAs,
      neighbors: network.nodeInfos.map((n) => ({ name: n.name.replace('-', '_'), address: n.ipv4 })),
      holdTimeSec: options.birdHoldTimeSec ?? 9,
      ...(options.birdBfd === null ? {} : { bfd: options.birdBfd ?? LAB_BFD }),
    });

    log('embedded Kubernetes API server');
    api = await startApiServer({
      host: '127.0.0.1',
      port: 0,
      dualStack: true,
      apply: [`${REPO}config/crd`],
      onRequest: options.onApiRequest,
      https: {},
    });
    const kubeconfig = `${runDir}/host.kubeconfig`;
    api.writeKubeconfig(kubeconfig);

    const ingress = options.ingress ?? 'stand-in';
    log(
      ingress === 'nginx'
        ? 'nginx on every node (/app-a -> app-a, Host b.example -> app-b) and the API path'
        : 'ingress stand-in and API path on every node',
    );
    const nodes = await startNodeServices(lab, api, network, { runDir, ingress, forwarders });

    log('cluster objects: namespace and RBAC, Nodes, speaker Pods, membership Secret');
    const controllerServiceAccountDir = `${runDir}/serviceaccount/controller`;
    api.writeServiceAccountMount(controllerServiceAccountDir, DEFAULT_NAMESPACE, 'controller');
    api.applyObjects([
      // The install's RBAC: the programs' tokens get no more than in a real cluster.
      ...readManifests([`${REPO}config/rbac`]),
      ...network.nodeInfos.map((n) => nodeObject(n, options.nodeLabels?.[n.name])),
      ...network.nodeInfos.map((n) => speakerPodObject(n)),
      membershipSecretObject(randomBytes(32)),
    ]);
    if (options.manifests?.length) api.applyObjects(readManifests([...options.manifests]));

    options.signal?.throwIfAborted();
    return makeTopology({
      lab,
      api,
      runDir,
      kubeconfig,
      controllerServiceAccountDir,
      nodes,
      router,
      nodeFlags: options.nodeFlags ?? {},
    });
  } catch (error) {
    for (const f of forwarders) await f.close();
    await api?.stop();
    await lab.destroy();
    throw error;
  }
}

/** The running topology's face: each call goes to the part that does the job. */
function makeTopology(parts: {
  lab: Lab;
  api: ApiServerHandle;
  runDir: string;
  kubeconfig: string;
  controllerServiceAccountDir: string;
  nodes: TopologyNode[];
  router: LabRouter;
  nodeFlags: NodeFlags;
}): Topology {
  const { lab, api, nodes, router } = parts;
  let stopped = false;
  const nodeInfos = (): LabNodeInfo[] => nodes.map(({ name, ipv4, ipv6 }) => ({ name, ipv4, ipv6 }));
  const node = (name: string): TopologyNode => {
    const found = nodes.find((n) => n.name === name);
    if (!found)
      throw new Error(`topology: no node "${name}" (nodes: ${nodes.map((n) => n.name).join(', ')})`);
    return found;
  };
  const daemons = new MetalBeaconDaemons({
    lab,
    runDir: parts.runDir,
    nodeFlags: parts.nodeFlags,
    node,
    apiHttps: api.https!,
    controllerServiceAccountDir: parts.controllerServiceAccountDir,
  });

  const getObject = async (path: string): Promise<KubeObject | undefined> => {
    const res = await fetch(`${api.url}${path}`);
    if (res.status === 404) return undefined;
    if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as KubeObject;
  };
  const serviceIps = async (name: string, namespace = 'default'): Promise<string[]> => {
    const svc = await getObject(`/api/v1/namespaces/${namespace}/services/${name}`);
    const ingress = (svc?.status as { loadBalancer?: { ingress?: { ip?: string }[] } } | undefined)
      ?.loadBalancer?.ingress;
    return (ingress ?? []).map((i) => i.ip).filter((ip): ip is string => typeof ip === 'string');
  };

  const topology: Topology = {
    lab,
    prefix: lab.prefix,
    runDir: parts.runDir,
    nodeFlags: parts.nodeFlags,
    api,
    kubeconfig: parts.kubeconfig,
    controllerServiceAccountDir: parts.controllerServiceAccountDir,
    nodes,
    client: 'client',
    router: 'router',
    get bird() {
      return router.bird;
    },
    get controller() {
      return daemons.controller;
    },
    node,
    applyManifests(input) {
      const objects =
        input.length > 0 && typeof input[0] === 'string'
          ? readManifests([...(input as readonly string[])])
          : [...(input as readonly KubeObject[])];
      return api.applyObjects(objects);
    },
    createIngressService(name, options = {}) {
      const { service, slices } = ingressServiceObjects(name, nodeInfos(), options);
      const namespace = options.namespace ?? 'default';
      const existingNs =
        namespace === 'default'
          ? []
          : [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }];
      const [created] = api.applyObjects([...existingNs, service]).slice(-1);
      api.applyObjects(slices);
      return created!;
    },
    setEndpoints(name, endpointNodes, options = {}) {
      const { slices } = ingressServiceObjects(name, nodeInfos(), { ...options, endpointNodes });
      api.applyObjects(slices);
    },
    getObject,
    serviceIps,
    async waitForServiceIps(name, options = {}) {
      const svc = await getObject(`/api/v1/namespaces/${options.namespace ?? 'default'}/services/${name}`);
      const families = ((svc?.spec as { ipFamilies?: string[] } | undefined)?.ipFamilies ?? ['IPv4']).length;
      const count = options.count ?? families;
      return waitFor(
        `${count} load-balancer IP(s) on Service ${name}`,
        async () => {
          const ips = await serviceIps(name, options.namespace);
          return ips.length >= count ? ips : undefined;
        },
        { timeoutMs: options.timeoutMs ?? 20_000, intervalMs: 100 },
      );
    },
    controllerEnv: () => daemons.controllerEnv(),
    startController: async (extraArgs = ['--no-leader-elect']) => daemons.startController(extraArgs),
    stopController: (signal = 'SIGTERM') => daemons.stopController(signal),
    startSpeaker: (name, extraArgs = [], options = {}) => daemons.startSpeaker(name, extraArgs, options),
    stopSpeaker: (name, signal = 'SIGTERM') => daemons.stopSpeaker(name, signal),
    restartSpeaker: (name) => daemons.restartSpeaker(name),
    cutLink: (name) => lab.cutLink(node(name).link),
    restoreLink: (name) => lab.restoreLink(node(name).link),
    rotateToken: (component) =>
      api.rotateServiceAccountToken(
        component === 'controller' ? parts.controllerServiceAccountDir : node(component).serviceAccountDir,
      ),
    async isolateFromApi(name) {
      const { forwarder, tlsForwarder } = node(name);
      await Promise.all([forwarder.close(), tlsForwarder.close()]);
    },
    async reconnectApi(name) {
      const { forwarder, tlsForwarder } = node(name);
      await Promise.all([forwarder.listen(), tlsForwarder.listen()]);
    },
    curlFrom: (ns, url, options) => curlFrom(lab, ns, url, options),
    birdRoutes: (prefix) => router.routes(prefix),
    kernelRoutes: (family, prefix) => router.kernelRoutes(family, prefix),
    birdc: (args) => router.birdc(args),
    restartBird: (downMs) => router.restart(downMs),
    configureRouter: (changes) => router.configure(changes),
    birdBfdSessions: () => router.bfdSessions(),
    async stop() {
      if (stopped) return;
      stopped = true;
      // Speakers first (graceful: they delete their status objects while the API is up).
      // The grace outlasts the speaker's default BGP shutdown drain (5 s).
      await Promise.all(nodes.map((n) => n.speaker?.kill('SIGTERM', 8_000)));
      await daemons.stopController('SIGTERM', 5_000);
      for (const n of nodes) await Promise.all([n.forwarder.close(), n.tlsForwarder.close()]);
      await api.stop();
      await lab.destroy();
    },
    [Symbol.asyncDispose]() {
      return topology.stop();
    },
  };
  return topology;
}
