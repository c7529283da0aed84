/**
 * What runs on every node of the topology before MetalBeacon does: the two halves of each API
 * path (a host-side unix-socket forwarder the lab can cut, and socat in the node on 127.0.0.1:6443
 * for plain HTTP and :443 for HTTPS), the speaker's ServiceAccount mount and kubeconfig, and the
 * ingress on port 80 (nginx with app-a and app-b, or the stand-in answering the node name).
 */
import { writeFileSync } from 'node:fs';
import type { ApiServerHandle } from '../apiserver/server.ts';
import { DEFAULT_NAMESPACE } from '../shared/api/names.ts';
import { waitFor } from '../shared/runtime/wait-for.ts';
import { ApiForwarder } from './api-forwarder.ts';
import { type NodeIngress, startNginxIngress, startStandInIngress } from './ingress-nginx.ts';
import { type Lab, type LabDaemon, type LabLink, untilExit } from './netns.ts';
import type { LabNodeInfo } from './objects.ts';

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

/**
 * Starts every node's API path, mount and ingress, and waits until each listens. Every forwarder
 * made is pushed to `forwarders` at once, so the caller closes them also when this throws.
 */
export async function startNodeServices(
  lab: Lab,
  api: ApiServerHandle,
  network: { nodeInfos: readonly LabNodeInfo[]; links: readonly LabLink[] },
  options: { runDir: string; ingress: 'nginx' | 'stand-in'; forwarders: ApiForwarder[] },
): Promise<TopologyNode[]> {
  const { runDir } = options;
  const https = api.https!;
  const nodeKubeconfigText = api.kubeconfigText.replace(api.url, 'http://127.0.0.1:6443');
  const nodes: TopologyNode[] = [];
  const ingresses: NodeIngress[] = [];
  for (const [i, info] of network.nodeInfos.entries()) {
    const forwarder = new ApiForwarder(`${runDir}/api-${info.name}.sock`, { host: api.host, port: api.port });
    const tlsForwarder = new ApiForwarder(`${runDir}/api-tls-${info.name}.sock`, {
      host: https.host,
      port: https.port,
    });
    options.forwarders.push(forwarder, tlsForwarder);
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
      link: network.links[i]!,
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
  return nodes;
}
