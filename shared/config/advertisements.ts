import type {
  AdvertisementScopeSpec,
  BGPAdvertisement,
  L2Advertisement,
  NodeLike,
} from '../api/resources.ts';
import { FAMILY_BITS, formatRange } from '../net/ip.ts';
import { longestPrefix } from './cidrs.ts';
import { looksLikeCommunityValue, parseCommunity } from './communities.ts';
import { configError, describeRef, type ObjectRef } from './errors.ts';
import { compareText, firstIndexes, uniqueStrings } from './names.ts';
import { resolveNodes } from './nodes.ts';
import { matchesSelector, selectorKey, validateSelectorList } from './selectors.ts';
import { objectsOfShape } from './shapes.ts';
import type {
  AdvertisementScope,
  BgpAdvertisementConfig,
  BgpCommunity,
  ConfigError,
  L2AdvertisementConfig,
  LabelSelector,
  PeerConfig,
  Pool,
} from './types.ts';

/** What advertisements are resolved against. */
export interface AdvertisementContext {
  readonly namespace: string | undefined;
  readonly pools: readonly Pool[];
  readonly nodes: readonly NodeLike[];
  /** Community alias -> value. */
  readonly communities: Readonly<Record<string, BgpCommunity>>;
  readonly peers: readonly PeerConfig[];
}

const LINUX_IFNAME = /^[^/\s:]{1,15}$/;

/** The pools named or selected; every pool when neither list is given (MetalLB's rule). Unknown names are ignored, as in MetalLB. */
function resolvePools(
  names: readonly string[],
  selectors: readonly LabelSelector[],
  pools: readonly Pool[],
): string[] {
  if (names.length === 0 && selectors.length === 0) return pools.map((p) => p.name);
  return pools
    .filter((p) => names.includes(p.name) || selectors.some((s) => matchesSelector(s, p.labels)))
    .map((p) => p.name)
    .sort(compareText);
}

function commonParts(
  spec: AdvertisementScopeSpec,
  ref: ObjectRef,
  ctx: AdvertisementContext,
  errors: ConfigError[],
): AdvertisementScope {
  const poolNames = uniqueStrings(spec.ipAddressPools, ref, 'spec.ipAddressPools', 'pool', errors);
  const poolSelectors = validateSelectorList(
    spec.ipAddressPoolSelectors,
    ref,
    'spec.ipAddressPoolSelectors',
    errors,
  );
  const nodeSelectors = validateSelectorList(spec.nodeSelectors, ref, 'spec.nodeSelectors', errors);
  const serviceSelectors = validateSelectorList(spec.serviceSelectors, ref, 'spec.serviceSelectors', errors);
  return {
    pools: resolvePools(poolNames, poolSelectors, ctx.pools),
    nodes: resolveNodes(nodeSelectors, ctx.nodes),
    nodeSelectors,
    serviceSelectors,
  };
}

/** Validates L2Advertisements and resolves their pools and nodes. Sorted by name. */
export function buildL2Advertisements(
  objects: readonly L2Advertisement[],
  ctx: AdvertisementContext,
  errors: ConfigError[],
): L2AdvertisementConfig[] {
  const out: L2AdvertisementConfig[] = [];
  for (const { object, ref } of objectsOfShape('L2Advertisement', objects, ctx.namespace, errors)) {
    const before = errors.length;
    const spec = object.spec ?? {};
    const common = commonParts(spec, ref, ctx, errors);
    const interfaces = uniqueStrings(spec.interfaces, ref, 'spec.interfaces', 'interface', errors);
    (spec.interfaces ?? []).forEach((name, i) => {
      if (!LINUX_IFNAME.test(String(name))) {
        errors.push(
          configError(
            ref,
            `spec.interfaces[${i}]`,
            `"${name}" is not a network interface name (1 to 15 characters, no '/', ':' or spaces)`,
          ),
        );
      }
    });
    if (errors.length === before) out.push({ name: object.metadata.name, ...common, interfaces });
  }
  return out;
}

/**
 * Validates BGPAdvertisements: aggregation lengths (in range, and not shorter than any prefix of
 * the pools they cover, or the route would claim addresses outside the pool), LOCAL_PREF,
 * communities (values or known aliases), duplicates, identical advertisements, and LOCAL_PREF
 * conflicts between advertisements that announce the same prefixes to the same peers.
 */
export function buildBgpAdvertisements(
  objects: readonly BGPAdvertisement[],
  ctx: AdvertisementContext,
  errors: ConfigError[],
): BgpAdvertisementConfig[] {
  const out: { ad: BgpAdvertisementConfig; ref: ObjectRef; specKey: string }[] = [];
  for (const { object, ref } of objectsOfShape('BGPAdvertisement', objects, ctx.namespace, errors)) {
    const before = errors.length;
    const spec = object.spec ?? {};
    const common = commonParts(spec, ref, ctx, errors);
    const aggregationLength = aggregation(spec.aggregationLength, 32, 'spec.aggregationLength', ref, errors);
    const aggregationLengthV6 = aggregation(
      spec.aggregationLengthV6,
      128,
      'spec.aggregationLengthV6',
      ref,
      errors,
    );
    if (aggregationLength !== undefined && aggregationLengthV6 !== undefined) {
      checkAggregationAgainstPools(
        common.pools,
        ctx.pools,
        { IPv4: aggregationLength, IPv6: aggregationLengthV6 },
        ref,
        errors,
      );
      if (common.serviceSelectors.length > 0 && (aggregationLength !== 32 || aggregationLengthV6 !== 128)) {
        errors.push(
          configError(
            ref,
            'spec.serviceSelectors',
            'serviceSelectors cannot be combined with an aggregation length other than 32 / 128: an aggregated route would also carry Services the selectors exclude',
          ),
        );
      }
    }
    if (
      spec.localPref !== undefined &&
      (!Number.isInteger(spec.localPref) || spec.localPref < 0 || spec.localPref > 0xffff_ffff)
    ) {
      errors.push(
        configError(
          ref,
          'spec.localPref',
          `LOCAL_PREF ${spec.localPref} is out of range: expected 0 to 4294967295`,
        ),
      );
    }
    const communities = resolveCommunities(spec.communities, ctx.communities, ref, errors);
    const peers = uniqueStrings(spec.peers, ref, 'spec.peers', 'peer', errors);
    if (errors.length > before || aggregationLength === undefined || aggregationLengthV6 === undefined)
      continue;
    const ad: BgpAdvertisementConfig = {
      name: object.metadata.name,
      ...common,
      peers: [...peers].sort(compareText),
      aggregationLength,
      aggregationLengthV6,
      localPref: spec.localPref,
      communities,
    };
    const specKey = JSON.stringify({
      ...ad,
      name: '',
      nodeSelectors: ad.nodeSelectors.map(selectorKey).sort(),
      serviceSelectors: ad.serviceSelectors.map(selectorKey).sort(),
      communities: ad.communities.map((c) => c.text).sort(),
    });
    const twin = out.find((o) => o.specKey === specKey);
    if (twin) {
      errors.push(configError(ref, 'spec', `identical to ${describeRef(twin.ref)}; delete one of them`));
      continue;
    }
    const conflict = out.find((o) => localPrefConflict(o.ad, ad, ctx.peers));
    if (conflict) {
      errors.push(
        configError(
          ref,
          'spec.localPref',
          `LOCAL_PREF ${ad.localPref ?? 'unset'} conflicts with ${conflict.ad.localPref ?? 'unset'} of ${describeRef(conflict.ref)}, which announces the same pool to the same peers from the same nodes`,
        ),
      );
      continue;
    }
    out.push({ ad, ref, specKey });
  }
  return out.map((o) => o.ad);
}

function aggregation(
  value: number | undefined,
  max: number,
  field: string,
  ref: ObjectRef,
  errors: ConfigError[],
): number | undefined {
  const length = value ?? max;
  if (!Number.isInteger(length) || length < 1 || length > max) {
    errors.push(
      configError(ref, field, `aggregation length ${length} is out of range: expected 1 to ${max}`),
    );
    return undefined;
  }
  return length;
}

function checkAggregationAgainstPools(
  poolNames: readonly string[],
  pools: readonly Pool[],
  lengths: { IPv4: number; IPv6: number },
  ref: ObjectRef,
  errors: ConfigError[],
): void {
  for (const pool of pools) {
    if (!poolNames.includes(pool.name)) continue;
    for (const range of pool.ranges) {
      const length = lengths[range.family];
      const prefix = longestPrefix(range);
      if (length < prefix) {
        const field = range.family === 'IPv4' ? 'spec.aggregationLength' : 'spec.aggregationLengthV6';
        errors.push(
          configError(
            ref,
            field,
            `aggregation length ${length} is shorter than prefix /${prefix} in ${formatRange(range)} of IPAddressPool ${pool.name}: the route would cover addresses outside the pool (use ${prefix} to ${FAMILY_BITS[range.family]})`,
          ),
        );
        return;
      }
    }
  }
}

function resolveCommunities(
  texts: readonly string[] | undefined,
  aliases: Readonly<Record<string, BgpCommunity>>,
  ref: ObjectRef,
  errors: ConfigError[],
): BgpCommunity[] {
  const out: BgpCommunity[] = [];
  const firstIndexOf = firstIndexes();
  (texts ?? []).forEach((text, i) => {
    const field = `spec.communities[${i}]`;
    let value: BgpCommunity | undefined;
    if (looksLikeCommunityValue(text)) {
      const parsed = parseCommunity(text);
      if (!parsed.ok) {
        errors.push(configError(ref, field, parsed.reason));
        return;
      }
      value = parsed.value;
    } else {
      value = Object.hasOwn(aliases, text) ? aliases[text] : undefined;
      if (!value) {
        errors.push(
          configError(
            ref,
            field,
            `"${text}" is neither a community value nor an alias defined by a Community object (yet)`,
            true,
          ),
        );
        return;
      }
    }
    const first = firstIndexOf(value.text, i);
    if (first !== undefined) {
      errors.push(
        configError(
          ref,
          field,
          `duplicate community ${value.text}: already listed at spec.communities[${first}]`,
        ),
      );
      return;
    }
    out.push(value);
  });
  return out;
}

/** MetalLB's BGPAdvertisementsHaveCompatibleLocalPref: same pool, aggregation, nodes and peers must agree. */
function localPrefConflict(
  a: BgpAdvertisementConfig,
  b: BgpAdvertisementConfig,
  peers: readonly PeerConfig[],
): boolean {
  if (a.localPref === b.localPref) return false;
  if (a.aggregationLength !== b.aggregationLength || a.aggregationLengthV6 !== b.aggregationLengthV6)
    return false;
  if (!a.pools.some((p) => b.pools.includes(p))) return false;
  const aAllNodes = a.nodeSelectors.length === 0;
  const bAllNodes = b.nodeSelectors.length === 0;
  if (!aAllNodes && !bAllNodes && !a.nodes.some((n) => b.nodes.includes(n))) return false;
  const peersOf = (ad: BgpAdvertisementConfig) =>
    ad.peers.length === 0 ? peers.map((p) => p.name) : ad.peers;
  if (a.peers.length > 0 && b.peers.length > 0 && !peersOf(a).some((p) => peersOf(b).includes(p)))
    return false;
  return true;
}
