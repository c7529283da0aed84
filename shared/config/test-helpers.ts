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

export const pool = (name: string, spec: IPAddressPoolSpec, labels?: Record<string, string>) => ({
  apiVersion: API_VERSION,
  kind: 'IPAddressPool' as const,
  metadata: meta(name, labels),
  spec,
});
export const l2 = (name: string, spec: L2AdvertisementSpec) => ({
  apiVersion: API_VERSION,
  kind: 'L2Advertisement' as const,
  metadata: meta(name),
  spec,
});
export const bgpAd = (name: string, spec: BGPAdvertisementSpec) => ({
  apiVersion: API_VERSION,
  kind: 'BGPAdvertisement' as const,
  metadata: meta(name),
  spec,
});
export const peer = (name: string, spec: Partial<BGPPeerSpec>) => ({
  apiVersion: API_VERSION,
  kind: 'BGPPeer' as const,
  metadata: meta(name),
  spec: { myASN: 64512, peerASN: 64513, peerAddress: '192.0.2.1', ...spec } as BGPPeerSpec,
});
export const community = (name: string, spec: CommunitySpec) => ({
  apiVersion: API_VERSION,
  kind: 'Community' as const,
  metadata: meta(name),
  spec,
});
export const bfd = (name: string, spec: BFDProfileSpec) => ({
  apiVersion: API_VERSION,
  kind: 'BFDProfile' as const,
  metadata: meta(name),
  spec,
});
export const node = (name: string, labels: Record<string, string> = {}) => ({ metadata: { name, labels } });
export const basicAuthSecret = (name: string, password: string) => ({
  metadata: { name, namespace: NS },
  type: 'kubernetes.io/basic-auth',
  data: { password: Buffer.from(password).toString('base64') },
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
export function expectError(
  inputs: ConfigInputs,
  expected: {
    kind: string;
    name: string;
    field: string;
    message: RegExp;
    transient?: boolean;
    namespace?: string;
  },
): ConfigError {
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
