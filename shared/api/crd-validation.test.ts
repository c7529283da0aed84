import assert from 'node:assert/strict';
// biome-ignore lint/style/noRestrictedImports: the test reads the shipped manifests in config/; the module under test does no I/O
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { type CrdLike, compileCrdValidator, formatCrdErrors, validateAgainstCrd } from './crd-validation.ts';
import { API_VERSION, GROUP, PLURALS } from './names.ts';

const CRD_DIR = new URL('../../config/crd/', import.meta.url);

function loadCrds(): Map<string, CrdLike> {
  // kind -> CRD
  const out = new Map<string, CrdLike>();
  for (const file of readdirSync(CRD_DIR)) {
    const crd = parse(readFileSync(new URL(file, CRD_DIR), 'utf8')) as CrdLike;
    out.set(crd.spec.names.kind, crd);
  }
  return out;
}

const crds = loadCrds();
function crd(kind: string): CrdLike {
  const c = crds.get(kind);
  assert.ok(c, `no CRD for ${kind}`);
  return c;
}

describe('CRDs in config/crd', () => {
  it('has one CRD per kind, named plural.group, in our group and version', () => {
    assert.deepEqual([...crds.keys()].sort(), Object.keys(PLURALS).sort());
    for (const [kind, c] of crds) {
      const raw = c as unknown as { metadata: { name: string }; spec: { scope: string } };
      assert.equal(raw.metadata.name, `${PLURALS[kind as keyof typeof PLURALS]}.${GROUP}`);
      assert.equal(raw.spec.scope, 'Namespaced');
      assert.deepEqual(
        c.spec.versions.map((v) => v.name),
        ['v1beta1'],
      );
    }
  });

  it('pool printer columns show addresses, auto-assign, avoid-buggy-IPs and usage per family', () => {
    const version = (
      crd('IPAddressPool') as unknown as {
        spec: { versions: { additionalPrinterColumns: { name: string; jsonPath: string }[] }[] };
      }
    ).spec.versions[0];
    const paths = version?.additionalPrinterColumns.map((c) => c.jsonPath) ?? [];
    for (const p of [
      '.spec.addresses',
      '.spec.autoAssign',
      '.spec.avoidBuggyIPs',
      '.status.assignedIPv4',
      '.status.availableIPv4',
      '.status.assignedIPv6',
      '.status.availableIPv6',
    ]) {
      assert.ok(paths.includes(p), `missing printer column ${p}`);
    }
  });
});

describe('validateAgainstCrd', () => {
  const pool = (spec: unknown, extra: Record<string, unknown> = {}) => ({
    apiVersion: API_VERSION,
    kind: 'IPAddressPool',
    metadata: { name: 'p', namespace: 'metalbeacon-system', labels: { a: 'b' } },
    spec,
    ...extra,
  });

  it('applies the defaults MetalLB has (autoAssign true, avoidBuggyIPs false, peerPort 179)', () => {
    const r = validateAgainstCrd(crd('IPAddressPool'), pool({ addresses: ['198.51.100.0/24'] }));
    assert.deepEqual(r.errors, []);
    assert.deepEqual((r.object as { spec: unknown }).spec, {
      addresses: ['198.51.100.0/24'],
      autoAssign: true,
      avoidBuggyIPs: false,
    });
    const peer = validateAgainstCrd(crd('BGPPeer'), {
      apiVersion: API_VERSION,
      kind: 'BGPPeer',
      metadata: { name: 'r1' },
      spec: { myASN: 64512, peerASN: 64513, peerAddress: '192.0.2.1' },
    });
    assert.equal(peer.ok, true);
    assert.equal((peer.object as { spec: { peerPort: number } }).spec.peerPort, 179);
  });

  it('keeps explicit values over defaults and leaves metadata alone', () => {
    const r = validateAgainstCrd(
      crd('IPAddressPool'),
      pool({ addresses: ['198.51.100.0/24'], autoAssign: false }),
    );
    const object = r.object as { spec: { autoAssign: boolean }; metadata: unknown };
    assert.equal(object.spec.autoAssign, false);
    assert.deepEqual(object.metadata, { name: 'p', namespace: 'metalbeacon-system', labels: { a: 'b' } });
  });

  it('prunes unknown fields and reports their paths', () => {
    const r = validateAgainstCrd(
      crd('IPAddressPool'),
      pool({ addresses: ['198.51.100.0/24'], colour: 'red' }),
    );
    assert.equal(r.ok, true);
    assert.deepEqual(r.unknownFields, ['spec.colour']);
    assert.equal('colour' in (r.object as { spec: object }).spec, false);
  });

  it('treats null as unset, then defaults', () => {
    const r = validateAgainstCrd(
      crd('IPAddressPool'),
      pool({ addresses: ['198.51.100.0/24'], autoAssign: null }),
    );
    assert.equal(r.ok, true);
    assert.equal((r.object as { spec: { autoAssign: boolean } }).spec.autoAssign, true);
  });

  it('reports a missing required field with its path', () => {
    const r = validateAgainstCrd(crd('IPAddressPool'), pool({}));
    assert.equal(r.ok, false);
    assert.deepEqual(r.errors, [
      { type: 'FieldValueRequired', field: 'spec.addresses', message: 'Required value' },
    ]);
  });

  it('reports every violation, with Kubernetes wording', () => {
    const r = validateAgainstCrd(crd('BGPPeer'), {
      apiVersion: API_VERSION,
      kind: 'BGPPeer',
      metadata: { name: 'r1' },
      spec: {
        myASN: 0,
        peerASN: 4294967296,
        peerAddress: '192.0.2.1',
        peerPort: 70000,
        holdTime: '90 seconds',
      },
    });
    assert.equal(r.ok, false);
    const byField = new Map(r.errors.map((e) => [e.field, e.message]));
    assert.equal(
      byField.get('spec.myASN'),
      'Invalid value: 0: spec.myASN in body should be greater than or equal to 1',
    );
    assert.match(byField.get('spec.peerASN') ?? '', /less than or equal to 4294967295/);
    assert.match(byField.get('spec.peerPort') ?? '', /less than or equal to 65535/);
    assert.match(
      byField.get('spec.holdTime') ?? '',
      /^Invalid value: "90 seconds": spec.holdTime in body should match/,
    );
    assert.match(formatCrdErrors(r.errors), /spec\.myASN: Invalid value/);
  });

  it('reports enum and type violations inside arrays with indexed paths', () => {
    const r = validateAgainstCrd(crd('L2Advertisement'), {
      apiVersion: API_VERSION,
      kind: 'L2Advertisement',
      metadata: { name: 'l2' },
      spec: { nodeSelectors: [{ matchExpressions: [{ key: 'a', operator: 'Is' }] }], interfaces: [7] },
    });
    const byField = new Map(r.errors.map((e) => [e.field, e]));
    assert.equal(
      byField.get('spec.nodeSelectors[0].matchExpressions[0].operator')?.type,
      'FieldValueNotSupported',
    );
    assert.match(byField.get('spec.interfaces[0]')?.message ?? '', /must be of type string/);
  });

  it('rejects malformed communities and pool entries by pattern', () => {
    const community = compileCrdValidator(crd('Community'));
    const ok = community({
      apiVersion: API_VERSION,
      kind: 'Community',
      metadata: { name: 'c' },
      spec: {
        communities: [
          { name: 'no-export-ish', value: '65535:65281' },
          { name: 'l', value: 'large:1:2:3' },
        ],
      },
    });
    assert.deepEqual(ok.errors, []);
    const bad = community({
      apiVersion: API_VERSION,
      kind: 'Community',
      metadata: { name: 'c' },
      spec: { communities: [{ name: 'x', value: 'lar:1:2:3' }] },
    });
    assert.deepEqual(
      bad.errors.map((e) => e.field),
      ['spec.communities[0].value'],
    );
    const badPool = validateAgainstCrd(crd('IPAddressPool'), pool({ addresses: ['not an address'] }));
    assert.deepEqual(
      badPool.errors.map((e) => e.field),
      ['spec.addresses[0]'],
    );
  });

  it('accepts exact status counts beyond 2^63 as strings and rejects numbers', () => {
    const v = compileCrdValidator(crd('IPAddressPool'));
    const big = v(
      pool({ addresses: ['2001:db8::/64'] }, { status: { availableIPv6: '18446744073709551616' } }),
    );
    assert.equal(big.ok, true);
    const num = v(pool({ addresses: ['2001:db8::/64'] }, { status: { availableIPv6: 5 } }));
    assert.deepEqual(
      num.errors.map((e) => e.field),
      ['status.availableIPv6'],
    );
  });

  it('BGPSessionState: accepts what the speaker writes (BFD too), rejects unknown states, bad times and negative counts', () => {
    const v = compileCrdValidator(crd('BGPSessionState'));
    const session = (status: Record<string, unknown>) => ({
      apiVersion: API_VERSION,
      kind: 'BGPSessionState',
      metadata: { name: 'node-a.r1', namespace: 'metalbeacon-system' },
      status,
    });
    const good = {
      node: 'node-a',
      peer: 'r1',
      peerAddress: '2001:db8:0:1::1',
      state: 'Established',
      since: '2026-11-22T09:00:00Z',
      prefixesAdvertised: 3,
      lastError: 'received NOTIFICATION 6/2 (Cease, Administrative Shutdown)',
      bfd: { state: 'Up', since: '2026-11-22T09:00:01Z', diagnostic: 'NoDiagnostic' },
    };
    assert.deepEqual(v(session(good)).errors, []);
    const bad = v(
      session({
        ...good,
        state: 'Up',
        since: 'now',
        prefixesAdvertised: -1,
        bfd: { state: 'Established', since: 'now', diagnostic: 'x'.repeat(65) },
      }),
    );
    assert.deepEqual(bad.errors.map((e) => e.field).sort(), [
      'status.bfd.diagnostic',
      'status.bfd.since',
      'status.bfd.state',
      'status.prefixesAdvertised',
      'status.since',
      'status.state',
    ]);
    const columns = (
      crd('BGPSessionState') as unknown as {
        spec: { versions: { additionalPrinterColumns: { name: string; priority?: number }[] }[] };
      }
    ).spec.versions[0]?.additionalPrinterColumns.filter((c) => !c.priority);
    assert.deepEqual(
      columns?.map((c) => c.name),
      ['Node', 'Peer', 'State', 'BFD', 'Since', 'Prefixes'],
    );
  });

  it('rejects an apiVersion the CRD does not serve', () => {
    const r = validateAgainstCrd(
      crd('IPAddressPool'),
      pool({ addresses: [] }, { apiVersion: 'metallb.io/v1beta1' }),
    );
    assert.equal(r.ok, false);
    assert.equal(r.errors[0]?.field, 'apiVersion');
    assert.match(r.errors[0]?.message ?? '', /supported values: "metalbeacon.io\/v1beta1"/);
  });
});

describe('validateAgainstCrd on Kubernetes schema extensions', () => {
  const synthetic: CrdLike = {
    spec: {
      group: 'example.com',
      names: { kind: 'Widget', plural: 'widgets' },
      versions: [
        {
          name: 'v1',
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: {
                  type: 'object',
                  properties: {
                    port: { 'x-kubernetes-int-or-string': true },
                    note: { type: 'string', nullable: true },
                    size: { type: 'integer', default: 3 },
                    free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                    labels: { type: 'object', additionalProperties: { type: 'string' } },
                    when: { type: 'string', format: 'date-time' },
                  },
                },
              },
            },
          },
        },
      ],
    },
  };
  const widget = (spec: unknown) => ({
    apiVersion: 'example.com/v1',
    kind: 'Widget',
    metadata: { name: 'w' },
    spec,
  });
  const validate = compileCrdValidator(synthetic);

  it('accepts int-or-string values and rejects anything else', () => {
    assert.equal(validate(widget({ port: 8080 })).ok, true);
    assert.equal(validate(widget({ port: 'http' })).ok, true);
    assert.equal(validate(widget({ port: 1.5 })).ok, false);
    assert.equal(validate(widget({ port: true })).ok, false);
  });

  it('keeps null on nullable fields and drops it elsewhere', () => {
    const r = validate(widget({ note: null, size: null }));
    assert.equal(r.ok, true);
    assert.deepEqual((r.object as { spec: unknown }).spec, { note: null, size: 3 });
  });

  it('keeps unknown fields under x-kubernetes-preserve-unknown-fields and map values', () => {
    const r = validate(widget({ free: { a: { b: 1 } }, labels: { x: 'y' } }));
    assert.deepEqual(r.unknownFields, []);
    assert.deepEqual((r.object as { spec: { free: unknown } }).spec.free, { a: { b: 1 } });
    const bad = validate(widget({ labels: { x: 1 } }));
    assert.deepEqual(
      bad.errors.map((e) => e.field),
      ['spec.labels.x'],
    );
  });

  it('checks date-time formats', () => {
    assert.equal(validate(widget({ when: '2026-11-22T04:00:00Z' })).ok, true);
    const r = validate(widget({ when: 'yesterday' }));
    assert.deepEqual(
      r.errors.map((e) => e.field),
      ['spec.when'],
    );
  });
});
