import { configError, type ObjectRef } from './errors.ts';
import { type Named, uniqueObjects } from './names.ts';
import type { ConfigError } from './types.ts';

/**
 * JSON shape checks run before the builders read a spec, so an object that slipped past the
 * CRD schema (or arrives from a test or the migrate command) becomes an error, never a crash.
 * Values are optional: absent and null pass. Ranges and formats are the builders' job.
 */
export type Shape = 'string' | 'number' | 'boolean' | readonly [Shape] | { readonly [key: string]: Shape };

const SELECTOR: Shape = {
  matchLabels: { '*': 'string' },
  matchExpressions: [{ key: 'string', operator: 'string', values: ['string'] }],
};

/** spec shapes per kind, mirroring config/crd. */
export const SpecShapes = {
  IPAddressPool: {
    addresses: ['string'],
    autoAssign: 'boolean',
    avoidBuggyIPs: 'boolean',
    serviceAllocation: {
      priority: 'number',
      namespaces: ['string'],
      namespaceSelectors: [SELECTOR],
      serviceSelectors: [SELECTOR],
    },
  },
  L2Advertisement: {
    ipAddressPools: ['string'],
    ipAddressPoolSelectors: [SELECTOR],
    nodeSelectors: [SELECTOR],
    serviceSelectors: [SELECTOR],
    interfaces: ['string'],
  },
  BGPAdvertisement: {
    aggregationLength: 'number',
    aggregationLengthV6: 'number',
    localPref: 'number',
    communities: ['string'],
    ipAddressPools: ['string'],
    ipAddressPoolSelectors: [SELECTOR],
    nodeSelectors: [SELECTOR],
    serviceSelectors: [SELECTOR],
    peers: ['string'],
  },
  BGPPeer: {
    myASN: 'number',
    peerASN: 'number',
    dynamicASN: 'string',
    localASN: 'number',
    peerAddress: 'string',
    interface: 'string',
    peerPort: 'number',
    sourceAddress: 'string',
    routerID: 'string',
    holdTime: 'string',
    keepaliveTime: 'string',
    connectTime: 'string',
    ebgpMultiHop: 'boolean',
    nodeSelectors: [SELECTOR],
    password: 'string',
    passwordSecret: { name: 'string', namespace: 'string' },
    bfdProfile: 'string',
    enableGracefulRestart: 'boolean',
    vrf: 'string',
    disableMP: 'boolean',
    dualStackAddressFamily: 'boolean',
  },
  Community: { communities: [{ name: 'string', value: 'string' }] },
  BFDProfile: {
    receiveInterval: 'number',
    transmitInterval: 'number',
    detectMultiplier: 'number',
    echoInterval: 'number',
    echoMode: 'boolean',
    passiveMode: 'boolean',
    minimumTtl: 'number',
  },
} as const satisfies Record<string, Shape>;

/**
 * The objects of `kind` that {@link uniqueObjects} lets through and whose spec has the kind's
 * shape; the others get their errors. Lazy, so an object's shape errors come just before what
 * its builder then finds in it.
 */
export function* objectsOfShape<T extends Named & { readonly spec?: unknown }>(
  kind: keyof typeof SpecShapes,
  objects: readonly T[],
  namespace: string | undefined,
  errors: ConfigError[],
): Generator<{ object: T; ref: ObjectRef }> {
  for (const entry of uniqueObjects(kind, objects, namespace, errors)) {
    if (checkShape(entry.object.spec, SpecShapes[kind], entry.ref, 'spec', errors)) yield entry;
  }
}

function describeShape(shape: Shape): string {
  if (typeof shape === 'string') return `a ${shape}`;
  if (Array.isArray(shape)) return `a list of ${describeShape(shape[0] as Shape).replace(/^an? /, '')}s`;
  return 'an object';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Pushes one error per value of the wrong JSON type under `field`; true when there was none. */
export function checkShape(
  value: unknown,
  shape: Shape,
  ref: ObjectRef,
  field: string,
  errors: ConfigError[],
): boolean {
  if (value === undefined || value === null) return true;
  const wrong = (): false => {
    errors.push(configError(ref, field, `must be ${describeShape(shape)}, not ${JSON.stringify(value)}`));
    return false;
  };
  if (typeof shape === 'string') return typeof value === shape ? true : wrong();
  if (Array.isArray(shape)) {
    if (!Array.isArray(value)) return wrong();
    let ok = true;
    value.forEach((item, i) => {
      if (item === null || !checkShape(item, shape[0] as Shape, ref, `${field}[${i}]`, errors)) {
        if (item === null) errors.push(configError(ref, `${field}[${i}]`, 'must not be null'));
        ok = false;
      }
    });
    return ok;
  }
  if (!isRecord(value)) return wrong();
  let ok = true;
  const record = shape as Readonly<Record<string, Shape>>;
  for (const [key, child] of Object.entries(value)) {
    const childShape = record[key] ?? record['*'];
    if (childShape && !checkShape(child, childShape, ref, `${field}.${key}`, errors)) ok = false;
  }
  return ok;
}
