/**
 * What a kept lab does for Services a user creates (`kubectl create service loadbalancer web
 * --tcp=80:80`): the lab has no kubelet or endpoints controller, so it lists every node as a
 * ready endpoint of a LoadBalancer Service that targets port 80, the port on which the lab's
 * ingress (nginx, or the stand-in of the tests) answers in every node namespace. The rule is pure; the loop that applies it is in
 * `serveUserServices`.
 */
import type { KubeObject } from '../apiserver/types.ts';

/** The port the lab's ingress serves in each node namespace (nginx or the stand-in). */
export const INGRESS_PORT = 80;

/** A Service the lab should give endpoints to. */
export interface UnservedService {
  namespace: string;
  name: string;
  families: ('IPv4' | 'IPv6')[];
}

interface ServiceShape {
  type?: string;
  ipFamilies?: ('IPv4' | 'IPv6')[];
  ports?: { port?: number; targetPort?: number | string; protocol?: string }[];
}

/**
 * LoadBalancer Services with a TCP port whose target is {@link INGRESS_PORT} and no
 * EndpointSlice yet (slices are matched by their `kubernetes.io/service-name` label), sorted.
 */
export function unservedServices(
  services: readonly KubeObject[],
  slices: readonly KubeObject[],
): UnservedService[] {
  const served = new Set(
    slices.map((s) => `${s.metadata.namespace}/${s.metadata.labels?.['kubernetes.io/service-name'] ?? ''}`),
  );
  const out: UnservedService[] = [];
  for (const svc of services) {
    const spec = (svc.spec ?? {}) as ServiceShape;
    const namespace = svc.metadata.namespace ?? 'default';
    const name = svc.metadata.name ?? '';
    if (spec.type !== 'LoadBalancer' || served.has(`${namespace}/${name}`)) continue;
    const targetsStandIn = (spec.ports ?? []).some(
      (p) => (p.protocol ?? 'TCP') === 'TCP' && (p.targetPort ?? p.port) === INGRESS_PORT,
    );
    if (targetsStandIn) out.push({ namespace, name, families: spec.ipFamilies ?? ['IPv4'] });
  }
  return out.sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
}

/** The part of the lab topology the loop needs. */
export interface UserServiceLab {
  nodes: readonly { name: string }[];
  getObject(path: string): Promise<KubeObject | undefined>;
  setEndpoints(
    name: string,
    nodes: readonly string[],
    options: { namespace: string; families: readonly ('IPv4' | 'IPv6')[]; port: number },
  ): void;
}

/**
 * Until `signal` aborts, gives each new user Service of {@link unservedServices} every node as
 * endpoint, checking once a second (a lab stand-in: a second's delay is what a user sees from a
 * real endpoints controller too). Resolves when stopped; a failed check is reported, not fatal.
 */
export async function serveUserServices(
  lab: UserServiceLab,
  signal: AbortSignal,
  report: (line: string) => void,
  everyMs = 1_000,
): Promise<void> {
  const items = async (path: string) => ((await lab.getObject(path))?.items ?? []) as KubeObject[];
  let lastError = '';
  while (!signal.aborted) {
    try {
      const todo = unservedServices(
        await items('/api/v1/services'),
        await items('/apis/discovery.k8s.io/v1/endpointslices'),
      );
      for (const s of todo) {
        const nodes = lab.nodes.map((n) => n.name);
        lab.setEndpoints(s.name, nodes, {
          namespace: s.namespace,
          families: s.families,
          port: INGRESS_PORT,
        });
        report(
          `endpoints stand-in: Service ${s.namespace}/${s.name} is served on port ${INGRESS_PORT} by ${nodes.join(', ')}`,
        );
      }
      lastError = '';
    } catch (error) {
      const text = (error as Error).message;
      if (!signal.aborted && text !== lastError) report(`endpoints stand-in: ${text}`);
      lastError = text;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, everyMs);
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
  }
}
