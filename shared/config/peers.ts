import type { BGPPeer, NodeLike, SecretLike } from '../api/resources.ts';
import { type IpValue, parseIp } from '../net/ip.ts';
import { parseDurationMs } from './durations.ts';
import { configError, describeRef, type ObjectRef } from './errors.ts';
import { resolveNodes } from './nodes.ts';
import { validateSelectorList } from './selectors.ts';
import { objectsOfShape } from './shapes.ts';
import type { ConfigError, PeerConfig } from './types.ts';

/** What peers are checked against besides themselves. */
export interface PeerContext {
  readonly namespace: string | undefined;
  readonly nodes: readonly NodeLike[];
  readonly secrets: readonly SecretLike[];
  /** Secret name -> why it could not be read; such a reference is a transient error saying why. */
  readonly unreadableSecrets: ReadonlyMap<string, string>;
  /** Names of the valid BFDProfiles. */
  readonly bfdProfiles: ReadonlySet<string>;
}

const MAX_ASN = 0xffff_ffff;
/** Linux TCP_MD5SIG_MAXKEYLEN. */
const MAX_MD5_KEY_BYTES = 80;
const DEFAULT_HOLD_SEC = 90;

/**
 * Validates BGPPeers: ASNs, addresses, timers (RFC 4271 §4.2), passwords (inline or from a
 * basic-auth Secret), BFD profile references, and duplicate sessions. Sorted by name.
 */
export function buildPeers(
  objects: readonly BGPPeer[],
  ctx: PeerContext,
  errors: ConfigError[],
): PeerConfig[] {
  const out: { peer: PeerConfig; ref: ObjectRef; everyNode: boolean }[] = [];
  for (const { object, ref } of objectsOfShape('BGPPeer', objects, ctx.namespace, errors)) {
    const before = errors.length;
    const peer = buildPeer(object, ref, ctx, errors);
    if (!peer || errors.length > before) continue;
    const everyNode = peer.nodeSelectors.length === 0;
    const clash = out.find(
      (o) =>
        o.peer.peerAddress.value === peer.peerAddress.value &&
        o.peer.peerAddress.family === peer.peerAddress.family &&
        o.peer.peerPort === peer.peerPort &&
        (o.everyNode || everyNode || o.peer.nodes.some((n) => peer.nodes.includes(n))),
    );
    if (clash) {
      errors.push(
        configError(
          ref,
          'spec.peerAddress',
          `duplicate peer: ${describeRef(clash.ref)} already opens a session to ${object.spec?.peerAddress} port ${peer.peerPort} from the same nodes`,
        ),
      );
      continue;
    }
    out.push({ peer, ref, everyNode });
  }
  return out.map((o) => o.peer);
}

function asn(value: unknown, ref: ObjectRef, field: string, errors: ConfigError[]): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_ASN) {
    errors.push(
      configError(ref, field, `AS number ${String(value)} is out of range: expected 1 to 4294967295`),
    );
    return undefined;
  }
  return value;
}

function address(
  text: string | undefined,
  ref: ObjectRef,
  field: string,
  errors: ConfigError[],
): IpValue | undefined {
  if (text === undefined) return undefined;
  const ip = parseIp(String(text).trim());
  if (!ip) errors.push(configError(ref, field, `"${text}" is not an IPv4 or IPv6 address`));
  return ip;
}

function seconds(
  text: string | undefined,
  ref: ObjectRef,
  field: string,
  errors: ConfigError[],
): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDurationMs(String(text));
  if (ms === undefined) {
    errors.push(configError(ref, field, `"${text}" is not a duration such as "90s" or "1m30s"`));
    return undefined;
  }
  // Rounded to whole seconds like MetalLB (BGP carries whole seconds).
  return Math.round(ms / 1000);
}

function buildPeer(
  object: BGPPeer,
  ref: ObjectRef,
  ctx: PeerContext,
  errors: ConfigError[],
): PeerConfig | undefined {
  const spec = object.spec;
  if (!spec) {
    errors.push(
      configError(ref, 'spec', 'a BGPPeer needs a spec with at least myASN, peerASN and peerAddress'),
    );
    return undefined;
  }
  for (const field of ['dynamicASN', 'localASN', 'interface', 'vrf'] as const) {
    if (spec[field] !== undefined && spec[field] !== '') {
      errors.push(
        configError(
          ref,
          `spec.${field}`,
          `${field} is a MetalLB FRR-mode feature that MetalBeacon's BGP speaker does not support; remove it`,
        ),
      );
    }
  }
  if (spec.myASN === undefined) errors.push(configError(ref, 'spec.myASN', 'myASN is required'));
  const myAsn = asn(spec.myASN, ref, 'spec.myASN', errors);
  const peerAsn = asn(spec.peerASN, ref, 'spec.peerASN', errors);
  if (spec.peerASN === undefined && spec.dynamicASN === undefined) {
    errors.push(configError(ref, 'spec.peerASN', 'peerASN is required'));
  }
  let peerAddress: IpValue | undefined;
  if (spec.peerAddress === undefined) {
    if (spec.interface === undefined)
      errors.push(configError(ref, 'spec.peerAddress', 'peerAddress is required'));
  } else {
    peerAddress = address(spec.peerAddress, ref, 'spec.peerAddress', errors);
  }
  const sourceAddress = address(spec.sourceAddress, ref, 'spec.sourceAddress', errors);
  if (sourceAddress && peerAddress && sourceAddress.family !== peerAddress.family) {
    errors.push(
      configError(
        ref,
        'spec.sourceAddress',
        `source ${spec.sourceAddress} is ${sourceAddress.family} but the peer address ${spec.peerAddress} is ${peerAddress.family}`,
      ),
    );
  }
  const routerId = address(spec.routerID, ref, 'spec.routerID', errors);
  if (routerId && routerId.family !== 'IPv4') {
    errors.push(
      configError(
        ref,
        'spec.routerID',
        `router ID "${spec.routerID}" must be an IPv4 address (a 32-bit BGP identifier, RFC 4271 §4.2)`,
      ),
    );
  }
  const peerPort = spec.peerPort ?? 179;
  if (!Number.isInteger(peerPort) || peerPort < 1 || peerPort > 65535) {
    errors.push(configError(ref, 'spec.peerPort', `port ${peerPort} is out of range: expected 1 to 65535`));
  }
  const timers = parseTimers(spec.holdTime, spec.keepaliveTime, ref, errors);
  const connectTimeSec = parseConnectTime(spec.connectTime, ref, errors);
  const ibgp = myAsn !== undefined && myAsn === peerAsn;
  if (ibgp && spec.ebgpMultiHop) {
    errors.push(
      configError(
        ref,
        'spec.ebgpMultiHop',
        `ebgpMultiHop is for eBGP only, but myASN and peerASN are both ${myAsn} (iBGP)`,
      ),
    );
  }
  const nodeSelectors = validateSelectorList(spec.nodeSelectors, ref, 'spec.nodeSelectors', errors);
  const password = resolvePassword(spec, ref, ctx, errors);
  if (spec.bfdProfile !== undefined && !ctx.bfdProfiles.has(spec.bfdProfile)) {
    errors.push(
      configError(ref, 'spec.bfdProfile', `BFDProfile "${spec.bfdProfile}" does not exist (yet)`, true),
    );
  }
  if (myAsn === undefined || peerAsn === undefined || !peerAddress || !timers) return undefined;
  return {
    name: object.metadata.name,
    myAsn,
    peerAsn,
    ibgp,
    peerAddress,
    peerPort,
    sourceAddress,
    routerId,
    holdTimeSec: timers.holdTimeSec,
    keepaliveTimeSec: timers.keepaliveTimeSec,
    connectTimeSec,
    ebgpMultiHop: spec.ebgpMultiHop ?? false,
    nodes: resolveNodes(nodeSelectors, ctx.nodes),
    nodeSelectors,
    password,
    bfdProfile: spec.bfdProfile,
    enableGracefulRestart: spec.enableGracefulRestart ?? false,
    dualStackAddressFamily: spec.dualStackAddressFamily ?? false,
  };
}

/**
 * MetalLB's parseTimers: hold 0 (no keepalives) or >= 3 s (RFC 4271 §4.2); a missing one of the
 * pair is derived from the other (keepalive = hold / 3, hold = 3 x keepalive); keepalive <= hold.
 */
function parseTimers(
  holdText: string | undefined,
  keepaliveText: string | undefined,
  ref: ObjectRef,
  errors: ConfigError[],
): { holdTimeSec: number; keepaliveTimeSec: number } | undefined {
  const before = errors.length;
  const hold = seconds(holdText, ref, 'spec.holdTime', errors);
  const keepalive = seconds(keepaliveText, ref, 'spec.keepaliveTime', errors);
  if (errors.length > before) return undefined;
  if (hold !== undefined && hold !== 0 && hold < 3) {
    errors.push(
      configError(
        ref,
        'spec.holdTime',
        `hold time "${holdText}" is too short: use 0 (no keepalives) or at least 3s (RFC 4271 §4.2)`,
      ),
    );
    return undefined;
  }
  const holdTimeSec = hold ?? (keepalive !== undefined ? keepalive * 3 : DEFAULT_HOLD_SEC);
  const keepaliveTimeSec = keepalive ?? Math.floor(holdTimeSec / 3);
  if (keepaliveTimeSec > holdTimeSec) {
    errors.push(
      configError(
        ref,
        'spec.keepaliveTime',
        `keepalive time "${keepaliveText}" (${keepaliveTimeSec}s) is longer than the hold time (${holdTimeSec}s)`,
      ),
    );
    return undefined;
  }
  return { holdTimeSec, keepaliveTimeSec };
}

function parseConnectTime(
  text: string | undefined,
  ref: ObjectRef,
  errors: ConfigError[],
): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDurationMs(String(text));
  if (ms === undefined || ms % 1000 !== 0 || ms < 1000 || ms > 65535_000) {
    errors.push(
      configError(ref, 'spec.connectTime', `connect time "${text}" must be whole seconds from 1s to 65535s`),
    );
    return undefined;
  }
  return ms / 1000;
}

/**
 * Names of the Secrets the peers' passwords come from (spec.passwordSecret) that are in
 * `namespace`, the only one read: what the speaker fetches by name. A reference to another
 * namespace is a configuration error (resolvePassword), not a name to fetch.
 */
export function passwordSecretNames(objects: readonly BGPPeer[], namespace: string): Set<string> {
  const names = new Set<string>();
  for (const object of objects) {
    const ref = object.spec?.passwordSecret;
    if (!ref?.name || typeof ref.name !== 'string') continue;
    if ((ref.namespace || object.metadata?.namespace || namespace) === namespace) names.add(ref.name);
  }
  return names;
}

function resolvePassword(
  spec: NonNullable<BGPPeer['spec']>,
  ref: ObjectRef,
  ctx: PeerContext,
  errors: ConfigError[],
): string | undefined {
  const secretRef = spec.passwordSecret;
  if (spec.password !== undefined && spec.password !== '' && secretRef) {
    errors.push(configError(ref, 'spec.passwordSecret', 'set either password or passwordSecret, not both'));
    return undefined;
  }
  let password: string | undefined = spec.password === '' ? undefined : spec.password;
  if (secretRef) {
    const namespace = secretRef.namespace || ref.namespace || ctx.namespace;
    if (!secretRef.name) {
      errors.push(configError(ref, 'spec.passwordSecret.name', 'the Secret name is missing'));
      return undefined;
    }
    if (ctx.namespace !== undefined && namespace !== ctx.namespace) {
      errors.push(
        configError(
          ref,
          'spec.passwordSecret.namespace',
          `the Secret must be in namespace "${ctx.namespace}", the only one the speaker may read`,
        ),
      );
      return undefined;
    }
    const secret = ctx.secrets.find(
      (s) => s.metadata.name === secretRef.name && (s.metadata.namespace ?? namespace) === namespace,
    );
    const where = `Secret ${namespace ? `${namespace}/` : ''}${secretRef.name}`;
    const unreadable = ctx.unreadableSecrets.get(secretRef.name);
    if (!secret && unreadable !== undefined) {
      errors.push(configError(ref, 'spec.passwordSecret', `${where} cannot be read: ${unreadable}`, true));
      return undefined;
    }
    if (!secret) {
      errors.push(configError(ref, 'spec.passwordSecret', `${where} does not exist (yet)`, true));
      return undefined;
    }
    if (secret.type !== 'kubernetes.io/basic-auth') {
      errors.push(
        configError(
          ref,
          'spec.passwordSecret',
          `${where} has type "${secret.type ?? 'Opaque'}"; it must be kubernetes.io/basic-auth`,
        ),
      );
      return undefined;
    }
    const fromString = secret.stringData?.password;
    const fromData = secret.data?.password;
    if (fromString === undefined && fromData === undefined) {
      errors.push(configError(ref, 'spec.passwordSecret', `${where} has no key "password"`));
      return undefined;
    }
    password = fromString ?? Buffer.from(fromData as string, 'base64').toString('utf8');
  }
  if (password !== undefined && Buffer.byteLength(password, 'utf8') > MAX_MD5_KEY_BYTES) {
    const field = secretRef ? 'spec.passwordSecret' : 'spec.password';
    errors.push(
      configError(
        ref,
        field,
        `the TCP MD5 password is longer than ${MAX_MD5_KEY_BYTES} bytes, the kernel's limit`,
      ),
    );
    return undefined;
  }
  return password;
}
