import type {
  BFDProfile,
  BGPAdvertisement,
  BGPPeer,
  Community,
  IPAddressPool,
  L2Advertisement,
  NamespaceLike,
  NodeLike,
  SecretLike,
} from '../api/resources.ts';
import { buildBgpAdvertisements, buildL2Advertisements } from './advertisements.ts';
import { buildBfdProfiles } from './bfd-profiles.ts';
import { buildCommunityAliases } from './community-aliases.ts';
import { deepFreeze } from './deep-freeze.ts';
import { buildPeers } from './peers.ts';
import { buildPools } from './pools.ts';
import type { Config, ConfigError } from './types.ts';

/** Everything the configuration is built from: the current CRs plus Nodes, Namespaces, Secrets. */
export interface ConfigInputs {
  readonly pools?: readonly IPAddressPool[];
  readonly l2Advertisements?: readonly L2Advertisement[];
  readonly bgpAdvertisements?: readonly BGPAdvertisement[];
  readonly peers?: readonly BGPPeer[];
  readonly communities?: readonly Community[];
  readonly bfdProfiles?: readonly BFDProfile[];
  readonly nodes?: readonly NodeLike[];
  readonly namespaces?: readonly NamespaceLike[];
  readonly secrets?: readonly SecretLike[];
  /** Secret name -> why it could not be read (the speaker reads password Secrets by name). */
  readonly unreadableSecrets?: ReadonlyMap<string, string>;
}

/** The ConfigInputs list that holds each kind of object buildConfig reads. */
export const CONFIG_INPUT_KEYS = {
  IPAddressPool: 'pools',
  L2Advertisement: 'l2Advertisements',
  BGPAdvertisement: 'bgpAdvertisements',
  BGPPeer: 'peers',
  Community: 'communities',
  BFDProfile: 'bfdProfiles',
  Namespace: 'namespaces',
  Secret: 'secrets',
  Node: 'nodes',
} as const satisfies Record<string, keyof ConfigInputs>;

/**
 * Objects of any kinds sorted into ConfigInputs by kind, in their order; other kinds are left
 * out. For callers holding a pile of manifests (migrate, the samples) rather than informer lists.
 */
export function configInputsOf(objects: Iterable<{ readonly kind?: unknown }>): ConfigInputs {
  const inputs: Partial<Record<keyof ConfigInputs, unknown[]>> = {};
  for (const object of objects) {
    const key = CONFIG_INPUT_KEYS[object.kind as keyof typeof CONFIG_INPUT_KEYS];
    if (!key) continue;
    inputs[key] ??= [];
    inputs[key].push(object);
  }
  return inputs as ConfigInputs;
}

export interface BuildConfigOptions {
  /** When set, CRs in any other namespace are errors (MetalLB reads only its own namespace). */
  readonly namespace?: string;
}

export type BuildConfigResult =
  | { readonly ok: true; readonly config: Config }
  | { readonly ok: false; readonly errors: readonly ConfigError[] };

/**
 * Builds the validated, deeply frozen configuration from the current objects, or returns every
 * error found (not just the first). Pure: the same inputs give the same result. It rejects all
 * that MetalLB's validating webhooks reject, plus missing or malformed password Secrets and
 * FRR-only peer fields; errors about objects that may appear later are marked `transient`.
 */
export function buildConfig(inputs: ConfigInputs, options: BuildConfigOptions = {}): BuildConfigResult {
  const errors: ConfigError[] = [];
  const namespace = options.namespace;
  const nodes = inputs.nodes ?? [];
  const pools = buildPools(inputs.pools ?? [], namespace, errors);
  const communities = buildCommunityAliases(inputs.communities ?? [], namespace, errors);
  const bfdProfiles = buildBfdProfiles(inputs.bfdProfiles ?? [], namespace, errors);
  // Profiles with errors count as existing, so a peer is not blamed for its profile's mistake.
  const bfdNames = new Set((inputs.bfdProfiles ?? []).map((p) => p.metadata.name));
  const peers = buildPeers(
    inputs.peers ?? [],
    {
      namespace,
      nodes,
      secrets: inputs.secrets ?? [],
      unreadableSecrets: inputs.unreadableSecrets ?? new Map(),
      bfdProfiles: bfdNames,
    },
    errors,
  );
  const context = { namespace, pools, nodes, communities, peers };
  const l2Advertisements = buildL2Advertisements(inputs.l2Advertisements ?? [], context, errors);
  const bgpAdvertisements = buildBgpAdvertisements(inputs.bgpAdvertisements ?? [], context, errors);
  if (errors.length > 0) return { ok: false, errors };
  const config: Config = {
    pools,
    l2Advertisements,
    bgpAdvertisements,
    peers,
    bfdProfiles,
    communities,
    nodeLabels: labelsByName(nodes),
    namespaceLabels: labelsByName(inputs.namespaces ?? []),
  };
  return { ok: true, config: deepFreeze(config) };
}

function labelsByName(objects: readonly NodeLike[]): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const o of objects) out[o.metadata.name] = { ...(o.metadata.labels ?? {}) };
  return out;
}
