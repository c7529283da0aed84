import assert from 'node:assert/strict';
// biome-ignore lint/style/noRestrictedImports: the test reads the shipped manifests in config/; the code under test does no I/O
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { type CrdLike, compileCrdValidator, formatCrdErrors } from '../api/crd-validation.ts';
import { API_VERSION, DEFAULT_NAMESPACE } from '../api/names.ts';
import { buildConfig, configInputsOf } from './build-config.ts';
import { formatConfigError } from './types.ts';

const CONFIG = new URL('../../config/', import.meta.url);

function yamlFiles(dir: string): string[] {
  return readdirSync(new URL(dir, CONFIG))
    .filter((f) => f.endsWith('.yaml'))
    .sort();
}

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}

interface Sample {
  file: string;
  object: Manifest;
}

function loadSamples(): Sample[] {
  return yamlFiles('samples/').flatMap((file) =>
    parseAllDocuments(readFileSync(new URL(`samples/${file}`, CONFIG), 'utf8')).map((doc) => {
      assert.deepEqual(doc.errors, [], `${file}: YAML errors`);
      return { object: doc.toJS() as Manifest, file };
    }),
  );
}

const validators = new Map(
  yamlFiles('crd/').map((file) => {
    const crd = parseYaml(readFileSync(new URL(`crd/${file}`, CONFIG), 'utf8')) as CrdLike;
    return [crd.spec.names.kind, compileCrdValidator(crd)] as const;
  }),
);

describe('config/samples', () => {
  const samples = loadSamples();

  it('every MetalBeacon object passes its CRD schema with no unknown fields', () => {
    const ours = samples.filter((s) => s.object.apiVersion === API_VERSION);
    assert.ok(ours.length >= 10, `only ${ours.length} MetalBeacon objects in the samples`);
    for (const { file, object: sample } of ours) {
      const validate = validators.get(sample.kind);
      assert.ok(validate, `${file}: no CRD for kind ${sample.kind}`);
      const result = validate(sample);
      assert.deepEqual(
        result.errors,
        [],
        `${file} ${sample.kind}/${sample.metadata.name}: ${formatCrdErrors(result.errors)}`,
      );
      assert.deepEqual(result.unknownFields, [], `${file} ${sample.kind}/${sample.metadata.name}`);
      assert.equal(sample.metadata.namespace, DEFAULT_NAMESPACE, `${file} ${sample.metadata.name}`);
    }
  });

  it('all samples together build a configuration with zero errors', () => {
    // What the API server stores: the CRD-defaulted object.
    const stored = samples.map(({ object: sample }) =>
      sample.apiVersion === API_VERSION
        ? (validators.get(sample.kind)?.(sample).object as typeof sample)
        : sample,
    );
    const result = buildConfig(configInputsOf(stored), { namespace: DEFAULT_NAMESPACE });
    if (!result.ok) assert.fail(result.errors.map(formatConfigError).join('\n'));
    const { config } = result;

    // The scenarios the issue asks for are really there.
    const ingress = config.pools.find((p) => p.name === 'ingress');
    assert.ok(
      ingress && config.l2Advertisements.some((a) => a.pools.includes('ingress')),
      'an L2 pool for the ingress',
    );
    const bgpAds = config.bgpAdvertisements.filter((a) => a.pools.includes('bgp'));
    assert.ok(bgpAds.length > 0 && config.peers.length === 2, 'a BGP setup with two peers');
    assert.ok(config.peers.some((p) => p.ibgp) && config.peers.some((p) => !p.ibgp));
    const dual = config.pools.find((p) => p.name === 'dual-stack');
    assert.ok(dual && dual.size.IPv4 > 0n && dual.size.IPv6 > 0n, 'a dual-stack pool');
    assert.ok(config.bfdProfiles.length > 0 && Object.keys(config.communities).length > 0);

    // Documentation ranges only.
    for (const pool of config.pools) {
      for (const r of pool.ranges) {
        const inside =
          r.family === 'IPv4'
            ? r.first >= 0xc6336400n && r.last <= 0xc63364ffn // 198.51.100.0/24
            : r.first >> 8n === 0x20010db8010000000000000000000000n >> 8n; // 2001:db8:100::/120
        assert.ok(inside, `pool ${pool.name} leaves the documentation ranges`);
      }
    }
    for (const peer of config.peers) {
      assert.equal(
        peer.peerAddress.value >> 8n,
        0xc0000200n >> 8n,
        `peer ${peer.name} is not in 192.0.2.0/24`,
      );
      for (const asn of [peer.myAsn, peer.peerAsn])
        assert.ok(asn >= 64512 && asn <= 65534, `ASN ${asn} is not private`);
    }
  });
});
