import { LineCounter, parseDocument } from 'yaml';
import {
  echoModeRule,
  emit,
  type FieldRule,
  isRecord,
  type MigrationContext,
  mapFields,
  ourObject,
  unconverted,
  uniqueName,
} from './context.ts';
import { GO_YAML_OPTIONS } from './parse.ts';
import type { SourceRef } from './types.ts';

/**
 * MetalLB's configuration before CRs (up to v0.12): a ConfigMap whose key `config` holds YAML
 * with `peers`, `bgp-communities`, `address-pools` and `bfd-profiles`, and the short-lived
 * `AddressPool` CR (metallb.io/v1beta1, v0.13) with the same pool shape. A legacy pool carries
 * its protocol; MetalBeacon, like MetalLB's CRs, splits it into an IPAddressPool plus an
 * L2Advertisement or BGPAdvertisement(s) naming that pool. Legacy peers and community aliases
 * have no names: peers are named after their address, aliases go into one Community object.
 */

/** Field names of a legacy pool in its two spellings. */
interface PoolSpelling {
  readonly name: string;
  readonly protocol: string;
  readonly advertisements: string;
  readonly pool: Readonly<Record<string, FieldRule>>;
  readonly advertisement: Readonly<Record<string, FieldRule>>;
}

const CONFIGMAP_POOL: PoolSpelling = {
  name: 'name',
  protocol: 'protocol',
  advertisements: 'bgp-advertisements',
  pool: {
    addresses: { to: 'addresses' },
    'auto-assign': { to: 'autoAssign' },
    'avoid-buggy-ips': { to: 'avoidBuggyIPs' },
  },
  advertisement: {
    'aggregation-length': { to: 'aggregationLength' },
    'aggregation-length-v6': { to: 'aggregationLengthV6' },
    localpref: { to: 'localPref' },
    communities: { to: 'communities' },
  },
};

const CR_POOL: PoolSpelling = {
  name: 'name',
  protocol: 'protocol',
  advertisements: 'bgpAdvertisements',
  pool: {
    addresses: { to: 'addresses' },
    autoAssign: { to: 'autoAssign' },
    avoidBuggyIPs: { to: 'avoidBuggyIPs' },
  },
  advertisement: {
    aggregationLength: { to: 'aggregationLength' },
    aggregationLengthV6: { to: 'aggregationLengthV6' },
    localPref: { to: 'localPref' },
    communities: { to: 'communities' },
  },
};

/**
 * One legacy pool -> IPAddressPool + advertisement(s). `prefix` is the path of the pool's
 * fields in the source (`spec` or `data.config address-pools[0]`).
 */
function convertPool(
  ctx: MigrationContext,
  from: SourceRef,
  source: Record<string, unknown>,
  name: string,
  metadata: Record<string, unknown>,
  spelling: PoolSpelling,
  prefix: string,
): void {
  const {
    [spelling.name]: _name,
    [spelling.protocol]: protocol,
    [spelling.advertisements]: ads,
    ...rest
  } = source;
  const join = (field: string) => (prefix === '' ? field : `${prefix}.${field}`);
  emit(
    ctx,
    from,
    ourObject(ctx, 'IPAddressPool', name, mapFields(ctx, from, rest, spelling.pool, prefix), metadata),
  );
  const adList = ads === undefined || ads === null ? [] : ads;
  if (protocol === 'layer2') {
    if (!Array.isArray(adList) || adList.length > 0) {
      unconverted(
        ctx,
        from,
        'BGP advertisements on a layer2 pool (MetalLB rejects them); ignored',
        join(spelling.advertisements),
      );
    }
    const adName = uniqueName(ctx, 'L2Advertisement', name);
    emit(ctx, from, ourObject(ctx, 'L2Advertisement', adName, { ipAddressPools: [name] }));
    return;
  }
  if (protocol !== 'bgp') {
    unconverted(
      ctx,
      from,
      `${protocol === undefined ? 'no protocol' : `protocol ${JSON.stringify(protocol)}`} (must be layer2 or bgp): the pool is converted, but no advertisement announces it${Array.isArray(adList) && adList.length > 0 ? ' (its bgp-advertisements are not converted either)' : ''}; add an L2Advertisement or a BGPAdvertisement`,
      join(spelling.protocol),
    );
    return;
  }
  if (!Array.isArray(adList)) {
    unconverted(
      ctx,
      from,
      `must be a list, not ${JSON.stringify(adList)}; no BGPAdvertisement created`,
      join(spelling.advertisements),
    );
    return;
  }
  // A bgp pool without advertisements was announced as /32 and /128 to every peer.
  const entries = adList.length === 0 ? [{}] : adList;
  entries.forEach((entry: unknown, i) => {
    const field = join(`${spelling.advertisements}[${i}]`);
    if (!isRecord(entry)) {
      unconverted(ctx, from, `must be a mapping, not ${JSON.stringify(entry)}`, field);
      return;
    }
    const spec = { ...mapFields(ctx, from, entry, spelling.advertisement, field), ipAddressPools: [name] };
    const adName = uniqueName(ctx, 'BGPAdvertisement', entries.length === 1 ? name : `${name}-${i + 1}`);
    emit(ctx, from, ourObject(ctx, 'BGPAdvertisement', adName, spec));
  });
}

/** A metallb.io AddressPool CR (spec: protocol, addresses, autoAssign, avoidBuggyIPs, bgpAdvertisements). */
export function convertAddressPoolCr(
  ctx: MigrationContext,
  from: SourceRef,
  spec: Record<string, unknown>,
  name: string,
  metadata: Record<string, unknown>,
): void {
  if (Object.hasOwn(spec, 'name')) unconverted(ctx, from, 'unknown field; dropped', 'spec.name');
  convertPool(ctx, from, spec, name, metadata, CR_POOL, 'spec');
}

/** `match-labels` / `match-expressions` selectors of the ConfigMap -> metav1.LabelSelector. */
function convertNodeSelectors(
  ctx: MigrationContext,
  from: SourceRef,
  value: unknown,
  field: string,
): unknown {
  if (!Array.isArray(value)) return value; // left to the CRD schema to reject, with its path
  return value.map((selector, i) => {
    if (!isRecord(selector)) return selector;
    return mapFields(
      ctx,
      from,
      selector,
      {
        'match-labels': { to: 'matchLabels' },
        'match-expressions': { to: 'matchExpressions' },
      },
      `${field}[${i}]`,
    );
  });
}

function peerRules(ctx: MigrationContext, from: SourceRef): Record<string, FieldRule> {
  return {
    'my-asn': { to: 'myASN' },
    'peer-asn': { to: 'peerASN' },
    'peer-address': { to: 'peerAddress' },
    'peer-port': { to: 'peerPort' },
    'source-address': { to: 'sourceAddress' },
    'router-id': { to: 'routerID' },
    'hold-time': { to: 'holdTime' },
    'keepalive-time': { to: 'keepaliveTime' },
    'ebgp-multihop': { to: 'ebgpMultiHop' },
    password: { to: 'password' },
    'bfd-profile': { to: 'bfdProfile' },
    'node-selectors': {
      to: 'nodeSelectors',
      convert: (value, field) => convertNodeSelectors(ctx, from, value, field),
    },
  };
}

const BFD_RULES: Readonly<Record<string, FieldRule>> = {
  'receive-interval': { to: 'receiveInterval' },
  'transmit-interval': { to: 'transmitInterval' },
  'detect-multiplier': { to: 'detectMultiplier' },
  'echo-interval': { to: 'echoInterval' },
  'echo-mode': echoModeRule('echoMode'),
  'passive-mode': { to: 'passiveMode' },
  'minimum-ttl': { to: 'minimumTtl' },
};

/** `peer-192-0-2-1` (`-port` when not 179): a DNS-1123 name derived from the session. */
function peerBaseName(address: unknown, port: unknown): string {
  const text = typeof address === 'string' ? address.trim().toLowerCase() : '';
  const slug = text.replace(/[^0-9a-z]+/g, '-').replace(/^-+|-+$/g, '');
  const base = slug === '' ? 'peer' : `peer-${slug}`;
  return port !== undefined && port !== null && port !== 179 ? `${base}-${String(port)}` : base;
}

function eachEntry(
  ctx: MigrationContext,
  from: SourceRef,
  value: unknown,
  section: string,
  lineOf: (path: readonly (string | number)[]) => number,
  convert: (entry: Record<string, unknown>, entryFrom: SourceRef, field: string) => void,
): void {
  if (value === null || value === undefined) return;
  const sectionFrom = { ...from, line: lineOf([section]), entry: `data.config ${section}` };
  if (!Array.isArray(value)) {
    unconverted(ctx, sectionFrom, `must be a list, not ${JSON.stringify(value)}; nothing converted from it`);
    return;
  }
  value.forEach((entry: unknown, i) => {
    const entryFrom = { ...from, line: lineOf([section, i]), entry: `data.config ${section}[${i}]` };
    if (!isRecord(entry)) {
      unconverted(ctx, entryFrom, `must be a mapping, not ${JSON.stringify(entry)}`);
      return;
    }
    convert(entry, entryFrom, '');
  });
}

/**
 * A legacy MetalLB ConfigMap (`data.config`). `configLine` is the line of the input where the
 * text of data.config starts, when it is a literal block (`config: |`), so that each entry is
 * reported at its own line; otherwise entries point at the ConfigMap.
 */
export function convertLegacyConfigMap(
  ctx: MigrationContext,
  from: SourceRef,
  data: Record<string, unknown>,
  configLine: number | undefined,
): void {
  for (const key of Object.keys(data)) {
    if (key !== 'config')
      unconverted(ctx, from, 'not part of the MetalLB configuration; ignored', `data.${key}`);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(String(data.config), {
    ...GO_YAML_OPTIONS,
    lineCounter,
    prettyErrors: false,
    uniqueKeys: true,
  });
  const lineOf = (path: readonly (string | number)[]): number => {
    const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
    const start = node?.range?.[0];
    return configLine === undefined || start === undefined
      ? from.line
      : configLine + lineCounter.linePos(start).line - 1;
  };
  const error = doc.errors[0];
  if (error) {
    const message = error.message.split('\n')[0];
    const at =
      configLine === undefined ? '' : ` at line ${configLine + lineCounter.linePos(error.pos[0]).line - 1}`;
    unconverted(ctx, from, `not valid YAML${at} (${message}); nothing converted`, 'data.config');
    return;
  }
  let config: unknown;
  try {
    // Alias problems (an alias before its anchor, too many aliases) surface only here.
    config = doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    const message = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    unconverted(ctx, from, `not valid YAML (${message}); nothing converted`, 'data.config');
    return;
  }
  if (config === null || config === undefined) {
    ctx.skipped.push({ from, reason: 'data.config is empty: MetalLB had no configuration' });
    return;
  }
  if (!isRecord(config)) {
    unconverted(ctx, from, `must hold a YAML mapping, not ${JSON.stringify(config)}`, 'data.config');
    return;
  }
  const before = ctx.objects.length + ctx.unconverted.length;
  convertSections(ctx, from, config, lineOf);
  if (ctx.objects.length + ctx.unconverted.length === before) {
    ctx.skipped.push({ from, reason: 'data.config defines no pools, peers, communities or BFD profiles' });
  }
}

function convertSections(
  ctx: MigrationContext,
  from: SourceRef,
  config: Record<string, unknown>,
  lineOf: (path: readonly (string | number)[]) => number,
): void {
  for (const key of Object.keys(config)) {
    if (!['peers', 'bgp-communities', 'address-pools', 'bfd-profiles'].includes(key)) {
      unconverted(
        ctx,
        { ...from, line: lineOf([key]), entry: `data.config ${key}` },
        'unknown section of the MetalLB configuration; ignored',
      );
    }
  }
  eachEntry(ctx, from, config['bfd-profiles'], 'bfd-profiles', lineOf, (entry, entryFrom) => {
    const { name, ...rest } = entry;
    if (typeof name !== 'string' || name === '') {
      unconverted(ctx, entryFrom, 'a BFD profile needs a name; not converted');
      return;
    }
    const profileName = uniqueName(ctx, 'BFDProfile', name);
    emit(
      ctx,
      entryFrom,
      ourObject(ctx, 'BFDProfile', profileName, mapFields(ctx, entryFrom, rest, BFD_RULES, '')),
    );
  });
  const aliases = config['bgp-communities'];
  if (aliases !== undefined && aliases !== null) {
    const aliasFrom = { ...from, line: lineOf(['bgp-communities']), entry: 'data.config bgp-communities' };
    if (!isRecord(aliases)) {
      unconverted(ctx, aliasFrom, `must be a mapping of alias: value, not ${JSON.stringify(aliases)}`);
    } else if (Object.keys(aliases).length > 0) {
      const communities = Object.entries(aliases).map(([name, value]) => ({
        name,
        value: typeof value === 'string' ? value : String(value),
      }));
      const objectName = uniqueName(ctx, 'Community', 'bgp-communities');
      emit(ctx, aliasFrom, ourObject(ctx, 'Community', objectName, { communities }));
    }
  }
  eachEntry(ctx, from, config.peers, 'peers', lineOf, (entry, entryFrom) => {
    if (entry['peer-address'] === undefined || entry['peer-address'] === null) {
      unconverted(ctx, entryFrom, 'a peer needs a peer-address (MetalLB rejects it too); not converted');
      return;
    }
    const name = uniqueName(ctx, 'BGPPeer', peerBaseName(entry['peer-address'], entry['peer-port']));
    const spec = mapFields(ctx, entryFrom, entry, peerRules(ctx, entryFrom), '');
    emit(ctx, entryFrom, ourObject(ctx, 'BGPPeer', name, spec));
  });
  eachEntry(ctx, from, config['address-pools'], 'address-pools', lineOf, (entry, entryFrom) => {
    const name = entry.name;
    if (typeof name !== 'string' || name === '') {
      unconverted(ctx, entryFrom, 'an address pool needs a name (MetalLB rejects it too); not converted');
      return;
    }
    convertPool(ctx, entryFrom, entry, name, {}, CONFIGMAP_POOL, '');
  });
}
