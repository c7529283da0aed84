import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import type { CrdLike } from '../../shared/api/crd-validation.ts';
import { migrateText } from '../../shared/migrate/migrate.ts';

/**
 * `metalbeacon migrate` end to end: the real CLI (Node 24 from node_modules, as npm scripts run
 * it) on the fixtures of shared/migrate, from a file and from stdin; stdout, stderr and exit
 * codes as a person or a script sees them.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NODE = `${ROOT}node_modules/.bin/node`;
const FIXTURES = 'shared/migrate/fixtures/';

function cli(args: string[], input?: string) {
  const r = spawnSync(NODE, ['bin/metalbeacon.js', 'migrate', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    input,
    env: { ...process.env, KUBECONFIG: '' },
    timeout: 30_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Objects of a YAML stream, ignoring comments; fails on any YAML error. */
function objects(text: string): unknown[] {
  return parseAllDocuments(text).map((doc) => {
    assert.deepEqual(doc.errors, []);
    return doc.toJS();
  });
}

const crdDir = new URL('../../config/crd/', import.meta.url);
const CRDS = readdirSync(crdDir)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => parseYaml(readFileSync(new URL(f, crdDir), 'utf8')) as CrdLike);

describe('metalbeacon migrate (CLI)', () => {
  it('FILE: prints exactly the converted objects, a header, and a one-line report; exit 0', () => {
    const file = `${FIXTURES}crs.yaml`;
    const { status, stdout, stderr } = cli([file]);
    assert.equal(status, 0, stderr);
    const expected = migrateText(readFileSync(`${ROOT}${file}`, 'utf8'), file, { crds: CRDS });
    assert.deepEqual(
      objects(stdout),
      expected.objects.map((o) => o.object),
    );
    assert.match(stdout, /^# MetalBeacon \(metalbeacon\.io\/v1beta1\) configuration converted from MetalLB/);
    assert.match(stdout, /# Everything was converted\./);
    assert.match(
      stdout,
      /# from shared\/migrate\/fixtures\/crs\.yaml document 6 \(line 109\) metallb\.io\/v1beta2 BGPPeer metallb-system\/spine-a\n/,
    );
    assert.equal(
      stderr,
      `metalbeacon migrate: 11 objects converted from ${file} into namespace metalbeacon-system, 0 not converted, 0 warnings, 0 skipped, 0 schema errors, 0 config errors, 0 Services to update\n`,
    );
  });

  it('-: reads stdin; the legacy ConfigMap converts the same as from a file', () => {
    const text = readFileSync(`${ROOT}${FIXTURES}legacy-configmap.yaml`, 'utf8');
    const fromStdin = cli(['-'], text);
    const fromFile = cli([`${FIXTURES}legacy-configmap.yaml`]);
    assert.equal(fromStdin.status, 0, fromStdin.stderr);
    assert.deepEqual(objects(fromStdin.stdout), objects(fromFile.stdout));
    assert.equal(objects(fromStdin.stdout).length, 11);
    assert.match(fromStdin.stderr, /from stdin into namespace metalbeacon-system/);
  });

  it('--namespace moves every object', () => {
    const { status, stdout } = cli(['--namespace', 'lb-system', `${FIXTURES}legacy-addresspool.yaml`]);
    assert.equal(status, 0);
    const namespaces = objects(stdout).map(
      (o) => (o as { metadata: { namespace: string } }).metadata.namespace,
    );
    assert.deepEqual(namespaces, Array(5).fill('lb-system'));
  });

  it('exit 1 when something is not converted: the rest still on stdout, each item on stderr', () => {
    const { status, stdout, stderr } = cli([`${FIXTURES}unconvertible.yaml`]);
    assert.equal(status, 1);
    assert.equal(objects(stdout).length, 7);
    assert.match(stdout, /# NOT everything was converted/);
    const lines = stderr.trim().split('\n');
    assert.equal(lines.filter((l) => l.startsWith('NOT CONVERTED: ')).length, 20);
    assert.equal(lines.filter((l) => l.startsWith('SKIPPED: ')).length, 4);
    assert.equal(lines.filter((l) => l.startsWith('SCHEMA ERROR: ')).length, 1);
    assert.equal(lines.filter((l) => l.startsWith('CONFIG ERROR')).length, 2);
    assert.ok(
      lines.includes(
        'NOT CONVERTED: document 1 (line 2) metallb.io/v1beta2 BGPPeer metallb-system/in-vrf spec.vrf: VRF "red" is not supported by MetalBeacon, which opens sessions in the node\'s default routing table only; the peer is not converted, because without its VRF it could reach a different router',
      ),
      stderr,
    );
  });

  it('Services: listed with kubectl commands; --rewrite-services outputs them', () => {
    const listed = cli([`${FIXTURES}services.yaml`]);
    assert.equal(listed.status, 1, 'an unknown MetalLB annotation is reported');
    assert.equal(objects(listed.stdout).length, 0);
    assert.match(listed.stderr, /^SERVICE infra\/dns: metallb\.io\/loadBalancerIPs -> /m);
    assert.match(listed.stderr, /^ {2}kubectl annotate --overwrite -n infra service dns /m);
    const rewritten = cli(['--rewrite-services', `${FIXTURES}services.yaml`]);
    const services = objects(rewritten.stdout) as { metadata: { annotations: Record<string, string> } }[];
    assert.deepEqual(
      services.map((s) => Object.keys(s.metadata.annotations).filter((k) => k.startsWith('metallb.'))),
      [[], ['metallb.universe.tf/frobnicate']],
    );
  });

  it('-o json: one JSON document on stdout, nothing on stderr', () => {
    const { status, stdout, stderr } = cli(['-o', 'json', `${FIXTURES}unconvertible.yaml`]);
    assert.equal(status, 1);
    assert.equal(stderr, '');
    const json = JSON.parse(stdout) as {
      complete: boolean;
      objects: unknown[];
      unconverted: { reason: string }[];
    };
    assert.equal(json.complete, false);
    assert.equal(json.objects.length, 7);
    assert.equal(json.unconverted.length, 20);
  });

  it('exit 2 with one line (and a hint) for unreadable input and usage errors', () => {
    const missing = cli(['no/such/file.yaml']);
    assert.equal(missing.status, 2);
    assert.equal(missing.stdout, '');
    assert.match(missing.stderr, /^error: cannot read no\/such\/file\.yaml: no such file\nhint: /);

    const broken = cli(['-'], 'apiVersion: v1\nkind: Service\n---\nkind: [ConfigMap\n');
    assert.equal(broken.status, 2);
    assert.equal(broken.stdout, '');
    assert.match(broken.stderr, /^error: stdin document 2 \(line \d+, column \d+\): YAML syntax error: /);
    assert.doesNotMatch(broken.stderr, /\n\s+at /);

    const empty = cli(['-'], '# nothing here\n');
    assert.equal(empty.status, 2);
    assert.match(empty.stderr, /^error: standard input holds no objects/);

    assert.equal(cli([]).status, 2);
    assert.equal(cli(['-o', 'xml', 'x']).status, 2);
    assert.equal(cli(['--namespace', 'Bad_NS', 'x']).status, 2);
  });
});
