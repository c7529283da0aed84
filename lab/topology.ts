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
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readManifests } from '../apiserver/manifests.ts';
import { type ApiServerHandle, startApiServer } from '../apiserver/server.ts';
import type { KubeObject } from '../apiserver/types.ts';
import { DEFAULT_NAMESPACE } from '../shared/api/names.ts';
import { SERVICE_ACCOUNT_DIR_ENV } from '../shared/k8s/connection.ts';
import { parseCidr } from '../shared/net/ip.ts';
import { waitFor } from '../shared/runtime/wait-for.ts';
import { ApiForwarder } from './api-forwarder.ts';
import { metalbeaconEntry } from './entry.ts';
import { type NodeIngress, startNginxIngress, startStandInIngress } from './ingress-nginx.ts';
import { Lab, type LabDaemon, type LabLink, type LabOptions, untilExit, waitForOutput } from './netns.ts';
import {
  type IngressServiceOptions,
  ingressServiceObjects,
  type LabNodeInfo,
  membershipSecretObject,
  nodeObject,
  speakerPodObject,
} from './objects.ts';
import {
  type BirdBfd,
  type BirdBfdSession,
  type BirdRoute,
  type KernelRoute,
  parseBirdBfdSessions,
  parseBirdRoutes,
  parseKernelRoutes,
  type RouterConfigOptions,
  routerBirdConfig,
} from './router.ts';
import { LAB_RUN_DIR } from './state.ts';

const REPO = fileURLToPath(new URL('../', import.meta.url));
/** The CLI entry point, run with this process's Node (24). */
export const METALBEACON_BIN = metalbeaconEntry();

/** The fixed address plan (DESIGN.md). */
export const LAB_ADDRESSES = {
  router: { ipv4: '192.0.2.1', ipv6: '2001:db8:0:1::1', far: '203.0.113.1', farLinkLocal: 'fe80::1' },
  client: { ipv4: '192.0.2.10', ipv6: '2001:db8:0:1::10', far: '203.0.113.10' },
  /** node-N gets .1N / ::1N. */
  node: (n: number) => ({ ipv4: `192.0.2.${10 + n}`, ipv6: `2001:db8:0:1::${10 + n}` }),
  /** Every Service pool, on-link on the LAN for the client (L2 mode). */
  servicePools: { ipv4: '198.51.100.0/24', ipv6: '2001:db8:100::/120' },
  /** The default BGP pool ranges: the client reaches them through the router's far side. */
  bgpRanges: ['198.51.100.64/26', '2001:db8:100::40/122'],
  routerAs: 64513,
  nodeAs: 64512,
} as const;

/**
 * The router's BFD: the timers of the lab's BFDProfile lab-bfd (lab/manifests/pools.yaml), and
 * `bfd graceful`, so a node whose session negotiated graceful restart keeps its routes across a
 * speaker restart (BIRD takes the AdminDown we send as we stop for a BFD failure).
 */
export const LAB_BFD: BirdBfd = { minRxMs: 300, minTxMs: 300, multiplier: 3, graceful: true };

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

/** V8 flags per daemon (see {@link TopologyOptions.nodeFlags}). */
export interface NodeFlags {
  readonly controller?: readonly string[];
  readonly speaker?: readonly string[];
}

/** A node of the topology. */
export interface TopologyNode extends LabNodeInfo {
  /** Short namespace name in the lab (`node-1`); `topology.lab.ns(short)` gives the full name. */
  short: string;
  /** Full namespace name. */
  namespace: string;
  link: LabLink;
  /** kubeconfig for processes inside the node namespace (http://127.0.0.1:6443). */
  kubeconfig: string;
  /** What listens on port 80: nginx's master (`ingress: 'nginx'`) or the stand-in. */
  ingress: LabDaemon;
  /** app-a and app-b behind nginx (none behind the stand-in). */
  backends: readonly LabDaemon[];
  /** The in-namespace half of the API path (socat). */
  apiRelay: LabDaemon;
  /** The host half of the API path (unix socket). */
  forwarder: ApiForwarder;
  /** The in-namespace half of the HTTPS path (socat on 127.0.0.1:443), the speaker's. */
  apiTlsRelay: LabDaemon;
  /** The host half of the HTTPS path. */
  tlsForwarder: ApiForwarder;
  /** The speaker's ServiceAccount mount (token, ca.crt, namespace), as the kubelet makes it. */
  serviceAccountDir: string;
  /** The running speaker, if any. */
  speaker: LabDaemon | undefined;
}

/** The result of one HTTP request from a client namespace. */
export interface CurlResult {
  ok: boolean;
  /** HTTP status, 0 when there was no response. */
  status: number;
  /** Response body, trimmed (the stand-in answers its node name, nginx's backends `app-a on node-1`). */
  body: string;
  /** curl's exit code (0 on success, 28 timeout, 7 refused...). */
  exitCode: number;
  /** Total time curl measured, in ms. */
  ms: number;
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
  configureRouter(changes: Pick<RouterConfigOptions, 'holdTimeSec' | 'bfd'>): Promise<void>;
  /** BIRD's BFD sessions (`show bfd sessions`). */
  birdBfdSessions(): Promise<BirdBfdSession[]>;
  /** Stops every daemon, deletes namespaces, sockets and files. Safe to call twice. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const NODE_SYSCTLS = [
  // A node accepts VIP traffic (local routes) but must not answer ARP for it: only the
  // speaker answers, and only on the owner (DESIGN.md facts).
  'net.ipv4.conf.all.arp_ignore=1',
  'net.ipv4.conf.default.arp_ignore=1',
  'net.ipv4.conf.all.arp_announce=2',
  'net.ipv4.conf.default.arp_announce=2',
] as const;

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
  const logFile = (name: string): string => `${runDir}/logs/${name}.log`;
  let api: ApiServerHandle | undefined;
  const forwarders: ApiForwarder[] = [];
  try {
    log('network: LAN bridge, client, router, nodes');
    await lab.addBridge('lan');
    await lab.addHost('client');
    await lab.addHost('router', { router: true });
    // Hash on ports too (L4), so several connections from one client spread over the ECMP paths.
    await lab.exec('router', [
      'sysctl',
      '-qw',
      'net.ipv4.fib_multipath_hash_policy=1',
      'net.ipv6.fib_multipath_hash_policy=1',
      'net.ipv4.conf.all.send_redirects=0',
    ]);
    const A = LAB_ADDRESSES;
    await lab.connect('router', { ipv4: `${A.router.ipv4}/24`, ipv6: `${A.router.ipv6}/64` });
    await lab.connect('client', { ipv4: `${A.client.ipv4}/24`, ipv6: `${A.client.ipv6}/64` });
    // The far side: a point-to-point leg client eth1 <-> router eth1 (IPv4 transit range; IPv6
    // over link-local next hops only, so no address outside the plan is needed).
    await lab.connectPair(
      { host: 'client', ifName: 'eth1', ipv4: `${A.client.far}/24` },
      { host: 'router', ifName: 'eth1', ipv4: `${A.router.far}/24`, ipv6: `${A.router.farLinkLocal}/64` },
    );
    // Client: Service IPs on-link on the LAN (L2), the BGP ranges through the router's far side.
    await lab.ip('client', ['route', 'add', A.servicePools.ipv4, 'dev', 'eth0']);
    await lab.ip('client', ['-6', 'route', 'add', A.servicePools.ipv6, 'dev', 'eth0']);
    for (const range of options.bgpRanges ?? A.bgpRanges) {
      if (range.includes(':')) {
        await lab.ip('client', ['-6', 'route', 'add', range, 'via', A.router.farLinkLocal, 'dev', 'eth1']);
      } else {
        await lab.ip('client', ['route', 'add', range, 'via', A.router.far, 'dev', 'eth1']);
      }
    }

    const nodeInfos: LabNodeInfo[] = [];
    const links: LabLink[] = [];
    for (let n = 1; n <= nodeCount; n++) {
      options.signal?.throwIfAborted();
      const name = `node-${n}`;
      const addr = A.node(n);
      await lab.addHost(name);
      await lab.exec(name, ['sysctl', '-qw', ...NODE_SYSCTLS]);
      links.push(await lab.connect(name, { ipv4: `${addr.ipv4}/24`, ipv6: `${addr.ipv6}/64` }));
      await lab.exec(name, [
        'sysctl',
        '-qw',
        'net.ipv4.conf.eth0.arp_ignore=1',
        'net.ipv4.conf.eth0.arp_announce=2',
      ]);
      // What kube-proxy does: the node accepts traffic for every Service IP.
      await lab.ip(name, ['route', 'add', 'local', A.servicePools.ipv4, 'dev', 'lo']);
      await lab.ip(name, ['-6', 'route', 'add', 'local', A.servicePools.ipv6, 'dev', 'lo']);
      // Replies to the far side go back through the router.
      await lab.ip(name, ['route', 'add', '203.0.113.0/24', 'via', A.router.ipv4]);
      nodeInfos.push({ name, ...addr });
    }

    log('BIRD router: eBGP with every node, ECMP into the kernel');
    const birdConf = `${runDir}/bird.conf`;
    const birdSocket = `${runDir}/bird.ctl`;
    const routerConfig: RouterConfigOptions = {
      routerId: A.router.ipv4,
      localAddress: A.router.ipv4,
      localAs: A.routerAs,
      peerAs: A.nodeAs,
      neighbors: nodeInfos.map((n) => ({ name: n.name.replace('-', '_'), address: n.ipv4 })),
      holdTimeSec: options.birdHoldTimeSec ?? 9,
      ...(options.birdBfd === null ? {} : { bfd: options.birdBfd ?? LAB_BFD }),
    };
    writeFileSync(birdConf, routerBirdConfig(routerConfig));
    const birdc = async (args: readonly string[]): Promise<string> =>
      (await lab.exec('router', ['birdc', '-s', birdSocket, ...args])).stdout;
    const startBird = () => spawnBird(lab, birdConf, birdSocket, logFile('bird'));
    const bird = await startBird();

    log('embedded Kubernetes API server');
    api = await startApiServer({
      host: '127.0.0.1',
      port: 0,
      dualStack: true,
      apply: [`${REPO}config/crd`],
      onRequest: options.onApiRequest,
      https: {},
    });
    const https = api.https!;
    const kubeconfig = `${runDir}/host.kubeconfig`;
    api.writeKubeconfig(kubeconfig);
    const nodeKubeconfigText = api.kubeconfigText.replace(api.url, 'http://127.0.0.1:6443');

    log(
      options.ingress === 'nginx'
        ? 'nginx on every node (/app-a -> app-a, Host b.example -> app-b) and the API path'
        : 'ingress stand-in and API path on every node',
    );
    const nodes: TopologyNode[] = [];
    const ingresses: NodeIngress[] = [];
    for (const [i, info] of nodeInfos.entries()) {
      const forwarder = new ApiForwarder(`${runDir}/api-${info.name}.sock`, {
        host: api.host,
        port: api.port,
      });
      const tlsForwarder = new ApiForwarder(`${runDir}/api-tls-${info.name}.sock`, {
        host: https.host,
        port: https.port,
      });
      forwarders.push(forwarder, tlsForwarder);
      await forwarder.listen();
      await tlsForwarder.listen();
      const relay = (port: number, to: ApiForwarder) =>
        lab.spawn(info.name, [
          'socat',
          `TCP-LISTEN:${port},bind=127.0.0.1,fork,reuseaddr`,
          `UNIX-CONNECT:${to.socketPath}`,
        ]);
      const apiRelay = relay(6443, forwarder);
      const apiTlsRelay = relay(443, tlsForwarder);
      const serviceAccountDir = `${runDir}/serviceaccount/speaker-${info.name}`;
      api.writeServiceAccountMount(serviceAccountDir, DEFAULT_NAMESPACE, 'speaker');
      const served =
        options.ingress === 'nginx'
          ? await startNginxIngress(lab, info.name, {
              dir: `${runDir}/nginx-${info.name}`,
              logDir: `${runDir}/logs`,
            })
          : startStandInIngress(lab, info.name, `${runDir}/logs`);
      ingresses.push(served);
      const nodeKubeconfig = `${runDir}/${info.name}.kubeconfig`;
      writeFileSync(nodeKubeconfig, nodeKubeconfigText, { mode: 0o600 });
      nodes.push({
        ...info,
        short: info.name,
        namespace: lab.ns(info.name),
        link: links[i]!,
        kubeconfig: nodeKubeconfig,
        ingress: served.ingress,
        backends: served.backends,
        apiRelay,
        forwarder,
        apiTlsRelay,
        tlsForwarder,
        serviceAccountDir,
        speaker: undefined,
      });
    }
    for (const [i, node] of nodes.entries()) {
      await ingresses[i]!.ready(15_000);
      for (const [port, relay] of [
        [6443, node.apiRelay],
        [443, node.apiTlsRelay],
      ] as const) {
        await waitFor(
          `socat on ${node.name}:${port}`,
          async () => {
            const r = await lab.exec(node.name, ['ss', '-Hltn', `sport = :${port}`], { allowFailure: true });
            return r.stdout.includes(`127.0.0.1:${port}`) ? true : undefined;
          },
          { timeoutMs: 10_000, signal: untilExit(relay, `socat on ${node.name}:${port}`) },
        );
      }
    }

    log('cluster objects: namespace and RBAC, Nodes, speaker Pods, membership Secret');
    const controllerServiceAccountDir = `${runDir}/serviceaccount/controller`;
    api.writeServiceAccountMount(controllerServiceAccountDir, DEFAULT_NAMESPACE, 'controller');
    api.applyObjects([
      // The install's RBAC: the programs' tokens get no more than in a real cluster.
      ...readManifests([`${REPO}config/rbac`]),
      ...nodeInfos.map((n) => nodeObject(n, options.nodeLabels?.[n.name])),
      ...nodeInfos.map((n) => speakerPodObject(n)),
      membershipSecretObject(randomBytes(32)),
    ]);
    if (options.manifests?.length) api.applyObjects(readManifests([...options.manifests]));

    options.signal?.throwIfAborted();
    const configureRouter = async (changes: Pick<RouterConfigOptions, 'holdTimeSec' | 'bfd'>) => {
      writeFileSync(birdConf, routerBirdConfig({ ...routerConfig, ...changes }));
      const out = await birdc(['configure']);
      if (!/Reconfigured|Reconfiguration in progress/.test(out)) throw new Error(`BIRD configure: ${out}`);
    };
    return makeTopology({
      lab,
      api,
      runDir,
      kubeconfig,
      controllerServiceAccountDir,
      nodes,
      bird,
      birdc,
      startBird,
      configureRouter,
      nodeFlags: options.nodeFlags ?? {},
    });
  } catch (error) {
    for (const f of forwarders) await f.close();
    await api?.stop();
    await lab.destroy();
    throw error;
  }
}

function makeTopology(parts: {
  lab: Lab;
  api: ApiServerHandle;
  runDir: string;
  kubeconfig: string;
  controllerServiceAccountDir: string;
  nodes: TopologyNode[];
  bird: LabDaemon;
  birdc: (args: readonly string[]) => Promise<string>;
  startBird: () => Promise<LabDaemon>;
  configureRouter: Topology['configureRouter'];
  nodeFlags: NodeFlags;
}): Topology {
  const { lab, api, nodes, birdc } = parts;
  const speakerArgs = new Map<string, { extraArgs: readonly string[]; nodeArgs: readonly string[] }>();
  let controller: LabDaemon | undefined;
  let bird = parts.bird;
  let stopped = false;
  const nodeInfos = (): LabNodeInfo[] => nodes.map(({ name, ipv4, ipv6 }) => ({ name, ipv4, ipv6 }));
  /** A Pod's environment: the API's Service address and its ServiceAccount mount. */
  const inCluster = (host: string, port: number, dir: string): NodeJS.ProcessEnv => ({
    ...process.env,
    KUBECONFIG: '',
    KUBERNETES_SERVICE_HOST: host,
    KUBERNETES_SERVICE_PORT: String(port),
    [SERVICE_ACCOUNT_DIR_ENV]: dir,
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
      return bird;
    },
    get controller() {
      return controller;
    },
    node(name) {
      const node = nodes.find((n) => n.name === name);
      if (!node)
        throw new Error(`topology: no node "${name}" (nodes: ${nodes.map((n) => n.name).join(', ')})`);
      return node;
    },
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
    controllerEnv: () => inCluster(api.https!.host, api.https!.port, parts.controllerServiceAccountDir),
    async startController(extraArgs = ['--no-leader-elect']) {
      if (controller && controller.child.exitCode === null)
        throw new Error('topology: the controller runs already');
      controller = lab.spawnHost(
        [
          process.execPath,
          ...(parts.nodeFlags.controller ?? []),
          METALBEACON_BIN,
          '--log-format',
          'json',
          'controller',
          '--metrics-listen',
          '127.0.0.1:0',
          ...extraArgs,
        ],
        {
          logFile: `${parts.runDir}/logs/controller.log`,
          env: topology.controllerEnv(),
        },
      );
      return controller;
    },
    async stopController(signal = 'SIGTERM') {
      await controller?.kill(signal, 10_000);
    },
    async startSpeaker(name, extraArgs = [], options = {}) {
      const node = topology.node(name);
      if (node.speaker && node.speaker.child.exitCode === null && node.speaker.child.signalCode === null) {
        throw new Error(`topology: the speaker on ${name} runs already (pid ${node.speaker.pid})`);
      }
      const nodeArgs = options.nodeArgs ?? parts.nodeFlags.speaker ?? [];
      speakerArgs.set(name, { extraArgs, nodeArgs });
      const speaker = lab.spawn(
        name,
        [
          process.execPath,
          ...nodeArgs,
          METALBEACON_BIN,
          '--log-format',
          'json',
          'speaker',
          '--node-name',
          name,
          ...extraArgs,
        ],
        {
          logFile: `${parts.runDir}/logs/speaker-${name}.log`,
          // Through the node's relay to the HTTPS listener, as a Pod reaches the kubernetes Service.
          env: inCluster('127.0.0.1', 443, node.serviceAccountDir),
        },
      );
      node.speaker = speaker;
      if (options.wait !== false)
        await waitForOutput(speaker, /"msg":"speaker ready"/, options.timeoutMs ?? 30_000);
      return speaker;
    },
    async stopSpeaker(name, signal = 'SIGTERM') {
      const node = topology.node(name);
      if (!node.speaker) throw new Error(`topology: no speaker was started on ${name}`);
      return node.speaker.kill(signal, 10_000);
    },
    async restartSpeaker(name) {
      const node = topology.node(name);
      if (node.speaker) await node.speaker.kill('SIGTERM', 10_000);
      const args = speakerArgs.get(name);
      return topology.startSpeaker(name, args?.extraArgs ?? [], { nodeArgs: args?.nodeArgs ?? [] });
    },
    cutLink: (name) => lab.cutLink(topology.node(name).link),
    restoreLink: (name) => lab.restoreLink(topology.node(name).link),
    rotateToken: (component) =>
      api.rotateServiceAccountToken(
        component === 'controller'
          ? parts.controllerServiceAccountDir
          : topology.node(component).serviceAccountDir,
      ),
    async isolateFromApi(name) {
      const node = topology.node(name);
      await Promise.all([node.forwarder.close(), node.tlsForwarder.close()]);
    },
    async reconnectApi(name) {
      const node = topology.node(name);
      await Promise.all([node.forwarder.listen(), node.tlsForwarder.listen()]);
    },
    async curlFrom(ns, url, options = {}) {
      const seconds = ((options.timeoutMs ?? 2_000) / 1000).toFixed(3);
      const header = options.host === undefined ? [] : ['-H', `Host: ${options.host}`];
      const r = await lab.exec(
        ns,
        [
          'curl',
          '-sg',
          '--max-time',
          seconds,
          ...header,
          '-o',
          '-',
          '-w',
          '\n%{http_code} %{time_total}',
          url,
        ],
        { allowFailure: true, timeoutMs: (options.timeoutMs ?? 2_000) + 5_000 },
      );
      const lines = r.stdout.split('\n');
      const [status = '0', total = '0'] = (lines.pop() ?? '').split(' ');
      const code = Number(status);
      return {
        ok: r.code === 0 && code >= 200 && code < 300,
        status: code,
        body: lines.join('\n').trim(),
        exitCode: r.code,
        ms: Math.round(Number(total) * 1000),
      };
    },
    async birdRoutes(prefix) {
      const args = prefix === undefined ? ['show', 'route'] : ['show', 'route', 'in', prefix];
      const tables =
        prefix === undefined
          ? [
              [...args, 'table', 'master4'],
              [...args, 'table', 'master6'],
            ]
          : [args];
      const out: BirdRoute[] = [];
      for (const a of tables) out.push(...parseBirdRoutes(await birdc(a)));
      return out;
    },
    async kernelRoutes(family, prefix) {
      const flag = family === 'IPv4' ? '-4' : '-6';
      const args = [flag, '-j', 'route', 'show', 'proto', 'bird'];
      if (prefix !== undefined) args.push('root', prefix);
      const routes = parseKernelRoutes((await lab.ip('router', args)).stdout, family);
      return prefix === undefined ? routes : routes.filter((r) => withinPrefix(r.prefix, prefix));
    },
    birdc,
    async restartBird(downMs = 0) {
      await bird.kill('SIGTERM', 5_000);
      if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
      bird = await parts.startBird();
    },
    configureRouter: parts.configureRouter,
    async birdBfdSessions() {
      return parseBirdBfdSessions(await birdc(['show', 'bfd', 'sessions']));
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      // Speakers first (graceful: they delete their status objects while the API is up).
      // The grace outlasts the speaker's default BGP shutdown drain (5 s).
      await Promise.all(nodes.map((n) => n.speaker?.kill('SIGTERM', 8_000)));
      await controller?.kill('SIGTERM', 5_000);
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

/** Starts BIRD in the router namespace and waits until it answers on its control socket. */
async function spawnBird(lab: Lab, conf: string, socket: string, logFile: string): Promise<LabDaemon> {
  const bird = lab.spawn('router', ['bird', '-f', '-c', conf, '-s', socket], { logFile });
  await waitFor(
    'BIRD to answer on its control socket',
    async () => {
      const r = await lab.exec('router', ['birdc', '-s', socket, 'show', 'status'], { allowFailure: true });
      return /Daemon is up and running/.test(r.stdout) ? true : undefined;
    },
    { timeoutMs: 10_000, intervalMs: 100, signal: untilExit(bird, 'BIRD') },
  );
  return bird;
}

/** True when `route` (a CIDR) lies within `prefix` (a CIDR). */
function withinPrefix(route: string, prefix: string): boolean {
  const r = parseCidr(route);
  const p = parseCidr(prefix);
  if (!r.ok || !p.ok || r.value.family !== p.value.family) return false;
  return r.value.first >= p.value.first && r.value.last <= p.value.last;
}
