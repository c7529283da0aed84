import assert from 'node:assert/strict';
import { API_VERSION, DEFAULT_NAMESPACE } from '../api/names.ts';
import type {
  BFDProfileSpec,
  BGPAdvertisementSpec,
  BGPPeerSpec,
  CommunitySpec,
  IPAddressPoolSpec,
  L2AdvertisementSpec,
} from '../api/resources.ts';
import { type BuildConfigResult, buildConfig, type ConfigInputs } from './build-config.ts';
import { type Config, type ConfigError, formatConfigError } from './types.ts';

/** Builders of test objects in the MetalBeacon namespace (shared by the shared/config tests). */

const NS = DEFAULT_NAMESPACE;
const meta = (name: string, labels?: Record<string, string>) => ({
  name,
  namespace: NS,
  ...(labels ? { labels } : {}),
});

/** A builder of `kind` objects in the MetalBeacon namespace, from a name and a spec. */
const builder =
  <K extends string, S>(kind: K) =>
  (name: string, spec: S, labels?: Record<string, string>) => ({
    apiVersion: API_VERSION,
    kind,
    metadata: meta(name, labels),
    spec,
  });

export const pool = builder<'IPAddressPool', IPAddressPoolSpec>('IPAddressPool');
export const l2 = builder<'L2Advertisement', L2AdvertisementSpec>('L2Advertisement');
export const bgpAd = builder<'BGPAdvertisement', BGPAdvertisementSpec>('BGPAdvertisement');
const bgpPeer = builder<'BGPPeer', BGPPeerSpec>('BGPPeer');
/** A BGPPeer whose spec defaults to a valid session (ASNs and address). */
export const peer = (name: string, spec: Partial<BGPPeerSpec>) =>
  bgpPeer(name, { myASN: 64512, peerASN: 64513, peerAddress: '192.0.2.1', ...spec } as BGPPeerSpec);
export const community = builder<'Community', CommunitySpec>('Community');
export const bfd = builder<'BFDProfile', BFDProfileSpec>('BFDProfile');
export const node = (name: string, labels: Record<string, string> = {}) => ({ metadata: { name, labels } });
export const basicAuthSecret = (name: string, password: string) => ({
  metadata: { name, namespace: NS },
  type: 'kubernetes.io/basic-auth',
  data: { password: Buffer.from(password).toString('base64') },
});

/** What {@link expectError} looks for: an error of `kind` on object `name` at `field`. */
export interface ExpectedError {
  kind: string;
  name: string;
  field: string;
  message: RegExp;
  transient?: boolean;
  namespace?: string;
}

/** The {@link ExpectedError} of one kind, from the object's name, the field and the message. */
export const errorAt =
  (kind: string) =>
  (name: string, field: string, message: RegExp, transient = false): ExpectedError => ({
    kind,
    name,
    field,
    message,
    transient,
  });

/** Builds with the MetalBeacon namespace enforced. */
export function build(inputs: ConfigInputs): BuildConfigResult {
  return buildConfig(inputs, { namespace: NS });
}

/** Asserts the build succeeded and returns the config. */
export function expectConfig(inputs: ConfigInputs): Config {
  const result = build(inputs);
  if (!result.ok) assert.fail(`unexpected errors:\n${result.errors.map(formatConfigError).join('\n')}`);
  return result.config;
}

/**
 * Asserts the build failed with an error about `kind name` at exactly `field` whose message
 * matches `message`, and that the one-line form names the object and the field.
 */
export function expectError(inputs: ConfigInputs, expected: ExpectedError): ConfigError {
  const result = build(inputs);
  assert.equal(result.ok, false, 'the configuration was accepted');
  if (result.ok) throw new Error('unreachable');
  const found = result.errors.find(
    (e) => e.kind === expected.kind && e.name === expected.name && e.field === expected.field,
  );
  assert.ok(
    found,
    `no error on ${expected.kind} ${expected.name} ${expected.field}; got:\n${result.errors.map(formatConfigError).join('\n')}`,
  );
  assert.match(found.message, expected.message);
  const namespace = expected.namespace ?? NS;
  assert.equal(found.namespace, namespace);
  assert.equal(found.transient === true, expected.transient === true, 'transient flag');
  const line = formatConfigError(found);
  assert.ok(line.startsWith(`${expected.kind} ${namespace}/${expected.name} ${expected.field}: `), line);
  return found;
}
