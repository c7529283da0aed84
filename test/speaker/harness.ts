import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CoreV1Api,
  CustomObjectsApi,
  DiscoveryV1Api,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { pino } from 'pino';
import { readManifests } from '../../apiserver/manifests.ts';
import { type ApiServerHandle, type ApiServerOptions, startApiServer } from '../../apiserver/server.ts';
import { reuseConnections } from '../../lab/connection-reuse.ts';
import { Lab, type LabDaemon, type LabLink, type LinkAddresses } from '../../lab/netns.ts';
import { membershipSecretObject } from '../../lab/objects.ts';
import type { KubeClient } from '../../shared/k8s/client.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import { planNode } from '../../speaker/announce/plan.ts';
import type { SpeakerHandle, SpeakerOptions } from '../../speaker/shell/options.ts';
import { startSpeaker } from '../../speaker/shell/speaker.ts';
import { kubeClientFromText, kubeConfigFor } from '../support/kube-client.ts';
import { acceptVips } from '../support/lan.ts';

export const NS = 'metalbeacon-system';
export const GROUP = 'metalbeacon.io';
export const VERSION = 'v1beta1';
const CRDS = new URL('../../config/crd/', import.meta.url).pathname;
const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
export const SPEAKER_LABELS = {
  'app.kubernetes.io/name': 'metalbeacon',
  'app.kubernetes.io/component': 'speaker',
};

/**
 * The embedded API server with our CRDs and namespace, clients, and speakers to start in this
 * process. The tests' own clients are client-node's (an independent implementation of the
 * protocol); each speaker gets its own KubeClient (shared/k8s), as a speaker process has.
 */
export interface Bed {
  readonly server: ApiServerHandle;
  readonly kc: KubeConfig;
  readonly core: CoreV1Api;
  readonly custom: CustomObjectsApi;
  readonly discovery: DiscoveryV1Api;
  /** A UDP port free on loopback, shared by the speakers of this bed (as in a DaemonSet). */
  readonly membershipPort: number;
  /**
   * Starts a speaker of `node` in this process, bound to `address` for membership, with a new
   * KubeClient (closed by `close()`) unless `extra.client` is given. L2 uses no interface at all
   * (`--exclude-interfaces .*`: nothing leaves loopback) and BGP listens nowhere.
   */
  startSpeaker(node: string, address: string, extra?: Partial<SpeakerOptions>): Promise<SpeakerHandle>;
  close(): Promise<void>;
}

/** A KubeClient for the server, made from its kubeconfig as `metalbeacon speaker` makes one. */
export function kubeClientFor(server: ApiServerHandle): KubeClient {
  return kubeClientFromText(server.kubeconfigText);
}

async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

export async function startBed(options: Pick<ApiServerOptions, 'onRequest' | 'onAudit'> = {}): Promise<Bed> {
  const server = await startApiServer({ dualStack: false, ...options });
  server.applyObjects(readManifests([CRDS]));
  // The membership Secret as the install makes it (the speaker only reads it).
  server.applyObjects([
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
    membershipSecretObject(randomBytes(32), NS),
  ] as never);
  const kc = reuseConnections(kubeConfigFor(server.kubeconfigText));
  const membershipPort = await freeUdpPort();
  const speakers: SpeakerHandle[] = [];
  const clients: KubeClient[] = [];
  return {
    server,
    kc,
    core: kc.makeApiClient(CoreV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
    discovery: kc.makeApiClient(DiscoveryV1Api),
    membershipPort,
    async startSpeaker(node, address, extra = {}) {
      const client = extra.client ?? kubeClientFor(server);
      if (!extra.client) clients.push(client);
      const speaker = await startSpeaker({
        client,
        nodeName: node,
        namespace: NS,
        log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
        planner: planNode,
        membershipPort,
        membershipBindAddress: address,
        membershipSecret: 'metalbeacon-membership',
        speakerSelector: 'app.kubernetes.io/name=metalbeacon,app.kubernetes.io/component=speaker',
        membershipProfile: 'default',
        excludeInterfaces: /.*/,
        bgpShutdownDrainSec: 0,
        bgpListenPort: 0,
        handoverMs: 100,
        debounceMs: 20,
        ...extra,
      });
      speakers.push(speaker);
      return speaker;
    },
    async close() {
      for (const s of speakers) await s.kill();
      for (const c of clients) c.close();
      await server.stop();
    },
  };
}

/** A Node with an InternalIP (documentation range; used only as the BGP router ID). */
export async function createNode(
  bed: Bed,
  name: string,
  internalIp: string,
  labels: Record<string, string> = {},
) {
  await bed.core.createNode({ body: { metadata: { name, labels } } });
  await bed.core.patchNodeStatus(
    { name, body: { status: { addresses: [{ type: 'InternalIP', address: internalIp }] } } },
    MERGE,
  );
}

/** A running, ready speaker Pod on `node` with `ip` (hostNetwork: the node's address). */
export async function createSpeakerPod(bed: Bed, node: string, ip: string): Promise<void> {
  const name = `speaker-${node}`;
  await bed.core.createNamespacedPod({
    namespace: NS,
    body: {
      metadata: { name, labels: SPEAKER_LABELS },
      spec: { nodeName: node, hostNetwork: true, containers: [{ name: 'speaker', image: 'metalbeacon' }] },
    },
  });
  await bed.core.patchNamespacedPodStatus(
    {
      name,
      namespace: NS,
      body: {
        status: {
          phase: 'Running',
          podIP: ip,
          podIPs: [{ ip }],
          conditions: [{ type: 'Ready', status: 'True' }],
        },
      },
    },
    MERGE,
  );
}

export async function deleteSpeakerPod(bed: Bed, node: string): Promise<void> {
  await bed.core.deleteNamespacedPod({ name: `speaker-${node}`, namespace: NS, gracePeriodSeconds: 0 });
}

/** Creates one of our CRs in NS. */
export async function createCr(bed: Bed, kind: string, plural: string, name: string, spec: object) {
  await bed.custom.createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: NS,
    plural,
    body: { apiVersion: `${GROUP}/${VERSION}`, kind, metadata: { name }, spec },
  });
}

/** A LoadBalancer Service whose status already holds `ips` (what the controller would write). */
export async function createService(
  bed: Bed,
  name: string,
  ips: readonly string[],
  spec: Record<string, unknown> = {},
): Promise<void> {
  await bed.core.createNamespacedService({
    namespace: 'default',
    body: {
      metadata: { name },
      spec: {
        type: 'LoadBalancer',
        ports: [{ port: 80, protocol: 'TCP' }],
        selector: { app: name },
        ...spec,
      },
    },
  });
  await bed.core.patchNamespacedServiceStatus(
    {
      name,
      namespace: 'default',
      body: { status: { loadBalancer: { ingress: ips.map((ip) => ({ ip })) } } },
    },
    MERGE,
  );
}

/** Sets the Service's EndpointSlice: one ready endpoint per listed node (none: no endpoints). */
export async function setEndpoints(bed: Bed, service: string, nodes: readonly string[]): Promise<void> {
  const body = {
    metadata: {
      name: `${service}-slice`,
      namespace: 'default',
      labels: { 'kubernetes.io/service-name': service },
    },
    addressType: 'IPv4',
    endpoints: nodes.map((node, i) => ({
      addresses: [`10.244.${i}.10`],
      nodeName: node,
      conditions: { ready: true, serving: true, terminating: false },
    })),
    ports: [{ port: 8080, protocol: 'TCP' }],
  };
  try {
    await bed.discovery.replaceNamespacedEndpointSlice({
      name: `${service}-slice`,
      namespace: 'default',
      body: body as never,
    });
  } catch {
    await bed.discovery.createNamespacedEndpointSlice({ namespace: 'default', body: body as never });
  }
}

/** Every object of one of our plurals in NS. */
export async function listCrs(
  bed: Bed,
  plural: string,
): Promise<
  {
    metadata: { name: string; uid?: string; labels?: Record<string, string> };
    status?: Record<string, unknown>;
  }[]
> {
  const result = (await bed.custom.listNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: NS,
    plural,
  })) as { items: never[] };
  return result.items;
}

/**
 * Makes the embedded API server reachable from inside lab namespaces, as the lab does: a unix
 * socket in front of it here (unix sockets cross namespaces), and per namespace a socat relay
 * from 127.0.0.1:6443 to that socket. Returns the kubeconfig path to use inside; `close()`
 * ends the host side (lab.destroy() stops the relays).
 */
export async function apiRelay(
  bed: Bed,
  dir: string,
): Promise<{ kubeconfig: string; into(lab: Lab, host: string): Promise<void>; close(): Promise<void> }> {
  const socketPath = join(dir, 'api.sock');
  const forwarder = createServer((client) => {
    const upstream = connect(bed.server.port, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => forwarder.listen(socketPath, () => resolve()));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    bed.server.kubeconfigText.replace(/http:\/\/127\.0\.0\.1:\d+/, 'http://127.0.0.1:6443'),
  );
  return {
    kubeconfig,
    async into(lab, host) {
      lab.spawn(host, [
        'socat',
        'TCP-LISTEN:6443,bind=127.0.0.1,fork,reuseaddr',
        `UNIX-CONNECT:${socketPath}`,
      ]);
      await waitFor(`the API relay in ${host}`, async () => {
        const r = await lab.exec(host, ['ss', '-ltnH', 'sport = :6443'], { allowFailure: true });
        return r.stdout.includes('6443') ? true : undefined;
      });
    },
    close: () => new Promise<void>((resolve) => forwarder.close(() => resolve())),
  };
}

/**
 * A lab of network namespaces on one bridge around a bed: the nodes added reach its API server
 * through the relay, and have their Node and a ready speaker Pod. `close()` ends the lab (and
 * every daemon still in it), the relay, the bed and the relay's folder, in that order.
 */
export interface NodeLab {
  readonly bed: Bed;
  readonly lab: Lab;
  /** The kubeconfig for programs inside the lab's nodes. */
  readonly kubeconfig: string;
  /** A node `host` on the bridge with `addresses`; its Node and speaker Pod name `nodeIp`. Returns its link. */
  addNode(host: string, addresses: LinkAddresses, nodeIp: string): Promise<LabLink>;
  close(): Promise<void>;
}

/** Starts a bed and a lab named `prefix` (see {@link Lab.create}) with its bridge. */
export async function startNodeLab(prefix: string): Promise<NodeLab> {
  const dir = mkdtempSync(join(tmpdir(), `mb-${prefix}-`));
  // What to undo, in the order made; close() undoes it last first, also after a failed start.
  const made: (() => Promise<void> | void)[] = [() => rmSync(dir, { recursive: true, force: true })];
  const close = async () => {
    for (const undo of made.splice(0).reverse()) await undo();
  };
  try {
    const bed = await startBed();
    made.push(() => bed.close());
    const relay = await apiRelay(bed, dir);
    made.push(() => relay.close());
    const lab = await Lab.create(prefix);
    made.push(() => lab.destroy());
    await lab.addBridge();
    return {
      bed,
      lab,
      kubeconfig: relay.kubeconfig,
      async addNode(host, addresses, nodeIp) {
        await lab.addHost(host);
        const link = await lab.connect(host, addresses);
        await relay.into(lab, host);
        await createNode(bed, host, nodeIp);
        await createSpeakerPod(bed, host, nodeIp);
        return link;
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * `metalbeacon speaker` inside a lab namespace, JSON logs, metrics on 127.0.0.1:7473 there.
 * `wrapper` goes before the program and must exec it (e.g. `setpriv ...`), so the daemon's PID
 * stays the speaker's.
 */
export function spawnSpeaker(
  lab: Lab,
  host: string,
  kubeconfig: string,
  args: readonly string[],
  wrapper: readonly string[] = [],
): LabDaemon {
  return lab.spawn(host, [
    ...wrapper,
    process.execPath,
    fileURLToPath(new URL('../../bin/metalbeacon.js', import.meta.url)),
    '--log-format',
    'json',
    'speaker',
    '--kubeconfig',
    kubeconfig,
    '--node-name',
    host,
    '--metrics-listen',
    '127.0.0.1:7473',
    ...args,
  ]);
}

/**
 * The sum of the samples of `name` in a Prometheus text exposition whose labels include every
 * one of `labels` (0 when there is none).
 */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = new Map<string, string>();
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      found.set(pair[1]!, pair[2]!);
    if (Object.entries(labels).every(([k, v]) => found.get(k) === v)) sum += Number(match[3]);
  }
  return sum;
}

/**
 * A node lab for L2 failover tests: a client on the bridge reaching the pool on-link, and per
 * entry of `nodeIps` (node name -> IPv4) a node that accepts `vip` (a `local` route, with
 * arp_ignore/arp_announce so only the speaker answers ARP for it, as every node running the
 * ingress does); the pool `pool`, the L2Advertisement `lan` and the Service `web` on `vip` with
 * an endpoint on every node. Returns the lab and each node's link.
 */
export async function startVipLab(
  prefix: string,
  nodeIps: Readonly<Record<string, string>>,
  vip: string,
): Promise<{ nodes: NodeLab; links: Map<string, LabLink> }> {
  const nodes = await startNodeLab(prefix);
  const { lab, bed } = nodes;
  const links = new Map<string, LabLink>();
  try {
    await lab.addHost('client');
    await lab.connect('client', { ipv4: '192.0.2.100/24' });
    // L2 mode: the service pool is reached on-link, as when it is part of the LAN's range.
    await lab.ip('client', ['route', 'add', '198.51.100.0/24', 'dev', 'eth0']);
    for (const [node, ip] of Object.entries(nodeIps)) {
      links.set(node, await nodes.addNode(node, { ipv4: `${ip}/24` }, ip));
      await acceptVips(lab, node, [vip]);
    }
    await createCr(bed, 'IPAddressPool', 'ipaddresspools', 'pool', { addresses: ['198.51.100.0/28'] });
    await createCr(bed, 'L2Advertisement', 'l2advertisements', 'lan', {});
    await createService(bed, 'web', [vip]);
    await setEndpoints(bed, 'web', Object.keys(nodeIps));
  } catch (error) {
    await nodes.close();
    throw error;
  }
  return { nodes, links };
}
