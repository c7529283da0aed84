import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { readManifests } from '../../apiserver/manifests.ts';
import { type ApiServerHandle, startApiServer } from '../../apiserver/server.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import { runOk, runTool } from '../support/kubectl.ts';
import {
  CHART,
  findObject,
  helmTemplate,
  kustomizeBuild,
  type Manifest,
  objectKey,
  parseManifests,
} from './render.ts';

/**
 * Installing for real: helm 4 install / upgrade / uninstall and kubectl 1.34 apply -k against
 * the embedded API server, with what they created read back through kubectl.
 */

const NS = 'metalbeacon-system';
const SERVICE_MONITOR_CRD = 'test/deploy/fixtures/servicemonitor-crd.yaml';

interface Env {
  server: ApiServerHandle;
  home: string;
  kubeconfig: string;
}

async function startEnv(prefix: string): Promise<Env> {
  // A real namespace controller takes seconds to empty a deleted namespace; kubectl delete -k
  // deletes the Namespace first and then each object, which must all still be there.
  const server = await startApiServer({ namespaceDeletionDelayMs: 2000 });
  // prometheus-operator's kind, which the chart renders with serviceMonitor.enabled.
  server.applyObjects(readManifests([SERVICE_MONITOR_CRD]));
  const home = mkdtempSync(join(tmpdir(), prefix));
  const kubeconfig = join(home, 'kubeconfig');
  server.writeKubeconfig(kubeconfig);
  return { server, home, kubeconfig };
}

async function stopEnv(env: Env | undefined): Promise<void> {
  if (!env) return;
  await env.server.stop();
  rmSync(env.home, { recursive: true, force: true });
}

function tool(env: Env, name: 'kubectl' | 'helm', ...args: string[]): Promise<string> {
  return runOk(name, args, { home: env.home, kubeconfig: env.kubeconfig });
}

/** The live objects named in a manifest file, through `kubectl get -f`; missing ones left out. */
async function liveObjects(env: Env, manifestFile: string): Promise<Manifest[]> {
  const out = await tool(env, 'kubectl', 'get', '-f', manifestFile, '--ignore-not-found', '-o', 'yaml');
  if (out.trim() === '') return [];
  const list = parse(out) as { kind?: string; items?: Manifest[] };
  assert.equal(list.kind, 'List', 'kubectl get -f prints a List');
  return list.items ?? [];
}

/** True when every field of `want` is in `have` with the same value (the server may add defaults). */
function contains(have: unknown, want: unknown): boolean {
  if (Array.isArray(want)) {
    return Array.isArray(have) && have.length === want.length && want.every((w, i) => contains(have[i], w));
  }
  if (want !== null && typeof want === 'object') {
    if (have === null || typeof have !== 'object') return false;
    return Object.entries(want).every(([k, v]) => contains((have as Record<string, unknown>)[k], v));
  }
  return have === want;
}

/** Asserts each rendered object is live and holds every rendered field. */
function assertLive(rendered: Manifest[], live: Manifest[]): void {
  const byKey = new Map(live.map((o) => [objectKey(o), o]));
  for (const want of rendered) {
    const have = byKey.get(objectKey(want));
    assert.ok(have, `${objectKey(want)} exists`);
    const { metadata, ...body } = want;
    assert.ok(contains(have, body), `${objectKey(want)} holds what was rendered`);
    assert.ok(contains(have.metadata.labels, metadata.labels), `${objectKey(want)} labels`);
  }
  assert.equal(live.length, rendered.length);
}

function containerArgs(obj: Manifest): string[] {
  const spec = obj.spec as { template: { spec: { containers: { args: string[] }[] } } };
  return spec.template.spec.containers[0]?.args ?? [];
}

describe('helm 4 install, upgrade and uninstall against the embedded API server', () => {
  let env: Env | undefined;
  let manifestFile: string;
  let firstKey: string;
  const install = ['--namespace', NS, '--set', 'serviceMonitor.enabled=true'];

  before(async () => {
    env = await startEnv('mb-deploy-helm-');
    manifestFile = join(env.home, 'release.yaml');
  });
  after(() => stopEnv(env));

  test('helm install creates every object of the chart, read back through kubectl', async () => {
    const e = env!;
    await tool(e, 'helm', 'install', 'metalbeacon', CHART, '--create-namespace', ...install);
    const manifest = await tool(e, 'helm', 'get', 'manifest', 'metalbeacon', '--namespace', NS);
    writeFileSync(manifestFile, manifest);
    const rendered = parseManifests(manifest, 'helm get manifest');
    assert.ok(rendered.some((o) => o.kind === 'ServiceMonitor'));
    assert.ok(rendered.filter((o) => o.kind === 'CustomResourceDefinition').length >= 8);
    const live = await liveObjects(e, manifestFile);
    // The Secret's random key differs between two renders: compare what helm applied.
    assertLive(rendered, live);
    const secret = findObject(live, 'Secret', 'metalbeacon-membership');
    firstKey = (secret.data as { key: string }).key;
    assert.equal(Buffer.from(firstKey, 'base64').length, 32);
    const status = JSON.parse(await tool(e, 'helm', 'status', 'metalbeacon', '-n', NS, '-o', 'json')) as {
      info: { status: string };
      version: number;
    };
    assert.deepEqual([status.info.status, status.version], ['deployed', 1]);
  });

  test('helm upgrade with changed values changes the workloads and keeps the membership key', async () => {
    const e = env!;
    const before = await liveObjects(e, manifestFile);
    const dsBefore = findObject(before, 'DaemonSet', 'speaker');
    await tool(
      e,
      'helm',
      'upgrade',
      'metalbeacon',
      CHART,
      ...install,
      '--set',
      'logLevel=debug,lbClass=example.com/metal,speaker.membership.profile=fast',
    );
    const after = await liveObjects(e, manifestFile);
    const ds = findObject(after, 'DaemonSet', 'speaker');
    const deploy = findObject(after, 'Deployment', 'controller');
    for (const args of [containerArgs(ds), containerArgs(deploy)]) {
      assert.ok(args.includes('--log-level=debug'), args.join(' '));
      assert.ok(args.includes('--lb-class=example.com/metal'), args.join(' '));
    }
    assert.ok(containerArgs(ds).includes('--membership-profile=fast'));
    assert.equal(
      (ds.metadata as { generation?: number }).generation,
      ((dsBefore.metadata as { generation?: number }).generation ?? 0) + 1,
      'the pod template changed once',
    );
    const secret = findObject(after, 'Secret', 'metalbeacon-membership');
    assert.equal((secret.data as { key: string }).key, firstKey, 'lookup kept the key');
    const history = JSON.parse(await tool(e, 'helm', 'history', 'metalbeacon', '-n', NS, '-o', 'json')) as {
      revision: number;
      status: string;
    }[];
    assert.deepEqual(
      history.map((h) => [h.revision, h.status]),
      [
        [1, 'superseded'],
        [2, 'deployed'],
      ],
    );
  });

  test('helm uninstall removes everything but the CRDs (resource-policy keep)', async () => {
    const e = env!;
    const out = await tool(e, 'helm', 'uninstall', 'metalbeacon', '--namespace', NS);
    assert.match(out, /kept due to the resource policy/);
    const live = await liveObjects(e, manifestFile);
    assert.ok(live.length > 0);
    assert.deepEqual(
      live.filter((o) => o.kind !== 'CustomResourceDefinition').map(objectKey),
      [],
      'only CRDs are left',
    );
    const crds = await tool(
      e,
      'kubectl',
      'get',
      'crd',
      '-l',
      'app.kubernetes.io/part-of=metalbeacon',
      '-o',
      'name',
    );
    assert.equal(crds.trim().split('\n').length, live.length);
    const releases = await tool(e, 'helm', 'list', '-n', NS, '-q');
    assert.equal(releases.trim(), '');
  });
});

describe('kubectl 1.34 apply -k against the embedded API server', () => {
  let env: Env | undefined;
  before(async () => {
    env = await startEnv('mb-deploy-kustomize-');
  });
  after(() => stopEnv(env));

  test('apply -k creates the build, a second apply writes nothing, delete -k removes it', async () => {
    const e = env!;
    const dir = 'deploy/kustomize/with-servicemonitor';
    const built = await kustomizeBuild(dir, e.home);
    const file = join(e.home, 'built.yaml');
    writeFileSync(file, await tool(e, 'kubectl', 'kustomize', dir));
    await tool(e, 'kubectl', 'apply', '-k', dir);
    const live = await liveObjects(e, file);
    assertLive(built, live);
    assert.equal(
      findObject(live, 'Namespace', NS).metadata.labels?.['pod-security.kubernetes.io/enforce'],
      'privileged',
    );
    // kubectl prints "configured" for a PDB every time (its selector has patchStrategy
    // replace, so the patch is never empty); what counts is that nothing changed.
    const versions = new Map(
      live.map((o) => [objectKey(o), (o.metadata as { resourceVersion?: string }).resourceVersion]),
    );
    await tool(e, 'kubectl', 'apply', '-k', dir);
    for (const o of await liveObjects(e, file)) {
      assert.equal(
        (o.metadata as { resourceVersion?: string }).resourceVersion,
        versions.get(objectKey(o)),
        objectKey(o),
      );
    }
    // The Namespace comes first in the build: its contents may be gone with it (the namespace
    // controller's delay is short here) before kubectl gets to them, which is no failure.
    const result = await runTool('kubectl', ['delete', '-k', dir, '--wait=false', '--ignore-not-found'], {
      home: e.home,
      kubeconfig: e.kubeconfig,
    });
    assert.equal(result.code, 0, result.stderr);
    await waitFor('every object of the build is gone', async () => (await liveObjects(e, file)).length === 0);
  });
});

test('helm template and the kustomize build stay valid YAML streams of Kubernetes objects', async () => {
  // Guards the parsers the other tests rely on: a broken document must fail loudly.
  assert.throws(() => parseManifests('apiVersion: v1\nkind: ConfigMap\n', 'x'), /not a Kubernetes object/);
  assert.throws(() => parseManifests('a: [\n', 'y'), /y: document 1/);
  const home = mkdtempSync(join(tmpdir(), 'mb-deploy-parse-'));
  try {
    assert.ok((await helmTemplate(home)).length > 10);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
