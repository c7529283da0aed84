/**
 * Built-in kinds are decoded into Go structs by the real server, so fields it does not know
 * vanish (or, with fieldValidation=Strict, are a 400). A Shape lists the known fields:
 * field → true (any value), a nested Shape, or [Shape] for a list of objects; the key '*'
 * keeps every other field as is (kinds we do not model field by field).
 */
export type Shape = { [field: string]: true | Shape | [Shape] };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Removes unknown fields in place; returns their paths (`spec.foo`, `spec.ports[0].bar`). */
export function pruneUnknown(value: unknown, shape: Shape, path = ''): string[] {
  if (!isObject(value)) return [];
  const pruned: string[] = [];
  for (const key of Object.keys(value)) {
    const rule = shape[key];
    const here = path ? `${path}.${key}` : key;
    if (rule === undefined) {
      if (shape['*']) continue;
      delete value[key];
      pruned.push(here);
    } else if (Array.isArray(rule)) {
      const items = value[key];
      if (Array.isArray(items)) {
        for (const [i, item] of items.entries()) pruned.push(...pruneUnknown(item, rule[0], `${here}[${i}]`));
      }
    } else if (rule !== true) {
      pruned.push(...pruneUnknown(value[key], rule, here));
    }
  }
  return pruned;
}

const OBJECT_META: Shape = {
  name: true,
  generateName: true,
  namespace: true,
  selfLink: true,
  uid: true,
  resourceVersion: true,
  generation: true,
  creationTimestamp: true,
  deletionTimestamp: true,
  deletionGracePeriodSeconds: true,
  labels: true,
  annotations: true,
  ownerReferences: true,
  finalizers: true,
  managedFields: true,
};

/** Any built-in kind: metadata is checked, the rest kept. */
export const GENERIC_SHAPE: Shape = { apiVersion: true, kind: true, metadata: OBJECT_META, '*': true };

/** core/v1 Service as of Kubernetes 1.34 (k8s.io/api/core/v1 ServiceSpec, ServiceStatus). */
export const SERVICE_SHAPE: Shape = {
  apiVersion: true,
  kind: true,
  metadata: OBJECT_META,
  spec: {
    ports: [{ name: true, protocol: true, appProtocol: true, port: true, targetPort: true, nodePort: true }],
    selector: true,
    clusterIP: true,
    clusterIPs: true,
    type: true,
    externalIPs: true,
    sessionAffinity: true,
    loadBalancerIP: true,
    loadBalancerSourceRanges: true,
    externalName: true,
    externalTrafficPolicy: true,
    healthCheckNodePort: true,
    publishNotReadyAddresses: true,
    sessionAffinityConfig: { clientIP: { timeoutSeconds: true } },
    ipFamilies: true,
    ipFamilyPolicy: true,
    allocateLoadBalancerNodePorts: true,
    loadBalancerClass: true,
    internalTrafficPolicy: true,
    trafficDistribution: true,
  },
  status: {
    loadBalancer: {
      ingress: [
        { ip: true, hostname: true, ipMode: true, ports: [{ port: true, protocol: true, error: true }] },
      ],
    },
    conditions: [
      {
        type: true,
        status: true,
        observedGeneration: true,
        lastTransitionTime: true,
        reason: true,
        message: true,
      },
    ],
  },
};
