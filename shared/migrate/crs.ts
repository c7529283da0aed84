import {
  echoModeRule,
  emit,
  type FieldRule,
  isRecord,
  type MigrationContext,
  mapFields,
  ourObject,
  same,
  unconverted,
  warn,
} from './context.ts';
import type { SourceRef } from './types.ts';

/**
 * Conversion of MetalLB's metallb.io custom resources. Field names and meanings are the same
 * in metalbeacon.io/v1beta1, so most fields copy as they are. Fields MetalBeacon does not
 * have are reported. A BGPPeer that would open a session somewhere else without its
 * unsupported field (a VRF, an unnumbered interface, a dynamic peer AS) is not converted at
 * all: a session in the wrong routing table could announce Service routes to the wrong router.
 */

export const METALLB_GROUP = 'metallb.io';

const SELECTOR_FIELDS = ['ipAddressPools', 'ipAddressPoolSelectors', 'nodeSelectors', 'serviceSelectors'];

/** spec rules per kind (MetalLB field -> how it is carried over). */
export const SPEC_RULES: Readonly<Record<string, Readonly<Record<string, FieldRule>>>> = {
  IPAddressPool: same('addresses', 'autoAssign', 'avoidBuggyIPs', 'serviceAllocation'),
  L2Advertisement: {
    ...same(...SELECTOR_FIELDS, 'interfaces'),
    preferredNodeSelectors: {
      unsupported:
        'MetalBeacon has no weighted node preference: the announcing node is chosen by a stable hash among the nodes of nodeSelectors; restrict nodeSelectors instead',
    },
  },
  BGPAdvertisement: same(
    ...SELECTOR_FIELDS,
    'aggregationLength',
    'aggregationLengthV6',
    'localPref',
    'communities',
    'peers',
  ),
  BGPPeer: {
    ...same(
      'myASN',
      'peerASN',
      'peerAddress',
      'peerPort',
      'sourceAddress',
      'routerID',
      'holdTime',
      'keepaliveTime',
      'connectTime',
      'ebgpMultiHop',
      'nodeSelectors',
      'password',
      'passwordSecret',
      'bfdProfile',
      'enableGracefulRestart',
      'disableMP',
      'dualStackAddressFamily',
    ),
    localASN: {
      unsupported:
        'localASN (FRR "local-as ... replace-as") is not supported by MetalBeacon; the session speaks as myASN, so set myASN to the AS the router expects',
    },
    dynamicASN: {
      unsupported: 'dynamicASN is not supported by MetalBeacon; peerASN is used',
    },
    interface: {
      unsupported:
        'unnumbered BGP (interface) is not supported by MetalBeacon; the session goes to peerAddress',
    },
    vrf: { unsupported: 'VRFs are not supported by MetalBeacon' },
  },
  Community: same('communities'),
  BFDProfile: {
    ...same(
      'receiveInterval',
      'transmitInterval',
      'detectMultiplier',
      'echoInterval',
      'passiveMode',
      'minimumTtl',
    ),
    echoMode: echoModeRule('echoMode'),
  },
};

/** kind -> versions of metallb.io that served it. */
const VERSIONS: Readonly<Record<string, readonly string[]>> = {
  IPAddressPool: ['v1beta1'],
  L2Advertisement: ['v1beta1'],
  BGPAdvertisement: ['v1beta1'],
  BGPPeer: ['v1beta1', 'v1beta2'],
  Community: ['v1beta1'],
  BFDProfile: ['v1beta1'],
  AddressPool: ['v1alpha1', 'v1beta1'],
};

/** Run-time objects MetalLB writes itself: nothing to carry over, MetalBeacon writes its own. */
const STATUS_KINDS: Readonly<Record<string, string>> = {
  ServiceL2Status: 'run-time status written by MetalLB speakers; MetalBeacon writes its own ServiceL2Status',
  ServiceBGPStatus:
    'run-time status written by MetalLB speakers; MetalBeacon writes its own ServiceBGPStatus',
  ConfigurationState:
    'run-time status written by MetalLB; MetalBeacon reports configuration errors on pools and in events',
};

/** Names the CRs of the input will take, so generated (legacy) names avoid them. */
export function crName(value: Record<string, unknown>): string | undefined {
  const metadata = value.metadata;
  return isRecord(metadata) && typeof metadata.name === 'string' ? metadata.name : undefined;
}

/** The peers' passwordSecret names, collected before Secrets are looked at (converted peers only). */
export function notePasswordSecret(ctx: MigrationContext, from: SourceRef, spec: unknown): void {
  if (!isRecord(spec) || !isRecord(spec.passwordSecret) || peerBlocker(spec)) return;
  const name = spec.passwordSecret.name;
  if (typeof name !== 'string') return;
  const refs = ctx.referencedSecrets.get(name) ?? [];
  refs.push(from);
  ctx.referencedSecrets.set(name, refs);
}

/** Converts one metallb.io object (any kind), reporting what it cannot carry over. */
export function convertMetallbResource(
  ctx: MigrationContext,
  from: SourceRef,
  value: Record<string, unknown>,
  convertLegacyPool: (spec: Record<string, unknown>, name: string, metadata: Record<string, unknown>) => void,
): void {
  const version = from.apiVersion.slice(METALLB_GROUP.length + 1);
  const statusReason = STATUS_KINDS[from.kind];
  if (statusReason) {
    ctx.skipped.push({ from, reason: statusReason });
    return;
  }
  const versions = VERSIONS[from.kind];
  if (!versions) {
    unconverted(ctx, from, `unknown MetalLB kind ${from.kind}; MetalBeacon has no equivalent`);
    return;
  }
  if (!versions.includes(version)) {
    unconverted(
      ctx,
      from,
      `MetalLB never served ${from.kind} as ${from.apiVersion} (known: ${versions.map((v) => `${METALLB_GROUP}/${v}`).join(', ')})`,
      'apiVersion',
    );
    return;
  }
  const metadata = isRecord(value.metadata) ? value.metadata : {};
  const spec = value.spec ?? {};
  if (!isRecord(spec)) {
    unconverted(ctx, from, `spec must be a mapping, not ${JSON.stringify(spec)}`, 'spec');
    return;
  }
  for (const key of Object.keys(value)) {
    if (!['apiVersion', 'kind', 'metadata', 'spec', 'status'].includes(key)) {
      unconverted(ctx, from, 'unknown top-level field; dropped', key);
    }
  }
  if (from.kind === 'AddressPool') {
    convertLegacyPool(spec, from.name, metadata);
    return;
  }
  if (from.kind === 'BGPPeer' && !peerConvertible(ctx, from, spec)) return;
  // An empty VRF is the default one: nothing to report.
  const { vrf, ...rest } = spec;
  const source = from.kind === 'BGPPeer' && vrf === '' ? rest : spec;
  const out = mapFields(ctx, from, source, SPEC_RULES[from.kind] ?? {}, 'spec');
  if (from.kind === 'BGPPeer') adjustPeerSecret(ctx, from, out);
  emit(ctx, from, ourObject(ctx, from.kind, from.name, out, metadata));
}

/**
 * Why a BGPPeer spec cannot be carried over without changing where it connects (field and
 * reason), or undefined when it can.
 */
export function peerBlocker(spec: unknown): { field: string; reason: string } | undefined {
  if (!isRecord(spec)) return undefined;
  if (typeof spec.vrf === 'string' && spec.vrf !== '') {
    return {
      field: 'spec.vrf',
      reason: `VRF "${spec.vrf}" is not supported by MetalBeacon, which opens sessions in the node's default routing table only; the peer is not converted, because without its VRF it could reach a different router`,
    };
  }
  if (spec.interface !== undefined && spec.interface !== null && spec.peerAddress === undefined) {
    return {
      field: 'spec.interface',
      reason: `unnumbered BGP over interface ${JSON.stringify(spec.interface)} is not supported by MetalBeacon; the peer is not converted: create it with the router's peerAddress`,
    };
  }
  if (spec.dynamicASN !== undefined && spec.dynamicASN !== null && spec.peerASN === undefined) {
    return {
      field: 'spec.dynamicASN',
      reason: `dynamicASN "${String(spec.dynamicASN)}" is not supported by MetalBeacon, which needs the router's AS; the peer is not converted: create it with peerASN`,
    };
  }
  return undefined;
}

/** False (and reported) when the peer cannot be carried over. */
function peerConvertible(ctx: MigrationContext, from: SourceRef, spec: Record<string, unknown>): boolean {
  const blocker = peerBlocker(spec);
  if (blocker) unconverted(ctx, from, blocker.reason, blocker.field);
  return blocker === undefined;
}

/** The speaker reads Secrets of its own namespace only: the object's namespace is implied. */
function adjustPeerSecret(ctx: MigrationContext, from: SourceRef, out: Record<string, unknown>): void {
  const secret = out.passwordSecret;
  if (!isRecord(secret)) return;
  const { namespace, ...rest } = secret;
  out.passwordSecret = rest;
  if (typeof namespace === 'string' && namespace !== '' && namespace !== from.namespace) {
    warn(
      ctx,
      from,
      `the Secret was in namespace "${namespace}"; MetalBeacon reads it from "${ctx.targetNamespace}"`,
      'spec.passwordSecret.namespace',
    );
  }
}
