import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CoreV1Api, CustomObjectsApi, type V1Service } from '@kubernetes/client-node';
import { readManifests } from '../../apiserver/manifests.ts';
import { type ApiServerHandle, startApiServer } from '../../apiserver/server.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import { apiCode, apiStatus, kubeConfigFor, type Wire } from '../support/kube-client.ts';

const CRD_DIR = new URL('../../config/crd/', import.meta.url).pathname;

let server: ApiServerHandle;
let core: CoreV1Api;
let custom: CustomObjectsApi;

before(async () => {
  server = await startApiServer({ bookmarkIntervalMs: 100 });
  server.applyObjects(readManifests([CRD_DIR]));
  const kc = kubeConfigFor(server.kubeconfigText);
  core = kc.makeApiClient(CoreV1Api);
  custom = kc.makeApiClient(CustomObjectsApi);
});
after(() => server.stop());

/** Raw HTTP for what the typed client does not expose (patch types, watch lines). */
async function http(method: string, path: string, body?: unknown, contentType = 'application/json') {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { 'content-type': contentType },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** Reads a watch stream until it ends, returning the events. */
async function watchEvents(path: string): Promise<{ type: string; object: Wire }[]> {
  const res = await fetch(`${server.url}${path}`);
  const text = await res.text();
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l));
}

const lbService = (name: string, extra: Partial<V1Service['spec']> = {}): V1Service => ({
  metadata: { name, labels: { app: name } },
  spec: { type: 'LoadBalancer', selector: { app: name }, ports: [{ name: 'http', port: 80 }], ...extra },
});

describe('optimistic concurrency', () => {
  test('of N concurrent updaters with the same resourceVersion exactly one wins, the others get 409', async () => {
    const namespace = 'default';
    const cm = await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'race' }, data: { n: '-1' } },
    });
    const n = 12;
    const codes = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        apiCode(
          core.replaceNamespacedConfigMap({
            name: 'race',
            namespace,
            body: { ...cm, data: { n: String(i) } },
          }),
        ),
      ),
    );
    assert.equal(codes.filter((c) => c === 200).length, 1);
    assert.equal(codes.filter((c) => c === 409).length, n - 1);
    const winner = codes.indexOf(200);
    assert.equal((await core.readNamespacedConfigMap({ name: 'race', namespace })).data?.n, String(winner));
    const conflict = await apiStatus(core.replaceNamespacedConfigMap({ name: 'race', namespace, body: cm }));
    assert.equal(conflict.body.reason, 'Conflict');
    assert.match(conflict.body.message, /the object has been modified/);
  });

  test('create twice is 409 AlreadyExists; reading a missing object is 404 NotFound with a Status', async () => {
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'twice' } } });
    const again = await apiStatus(
      core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'twice' } } }),
    );
    assert.equal(again.code, 409);
    assert.equal(again.body.reason, 'AlreadyExists');
    const missing = await apiStatus(core.readNamespacedConfigMap({ name: 'nope', namespace: 'default' }));
    assert.equal(missing.code, 404);
    assert.deepEqual(
      [missing.body.kind, missing.body.reason, missing.body.message],
      ['Status', 'NotFound', 'configmaps "nope" not found'],
    );
    const noNs = await apiStatus(
      core.createNamespacedConfigMap({ namespace: 'ghost', body: { metadata: { name: 'x' } } }),
    );
    assert.equal(noNs.code, 404);
    assert.equal(noNs.body.message, 'namespaces "ghost" not found');
  });
});

describe('status subresource and generation', () => {
  test('a status write cannot change spec, a spec write cannot change status (Service)', async () => {
    const namespace = 'default';
    const svc = await core.createNamespacedService({ namespace, body: lbService('split') });
    const lb = { loadBalancer: { ingress: [{ ip: '198.51.100.7' }] } };
    // Main resource: the status in the body is ignored.
    const put = await core.replaceNamespacedService({
      name: 'split',
      namespace,
      body: { ...svc, spec: { ...svc.spec, sessionAffinity: 'ClientIP' }, status: lb },
    });
    assert.equal(put.spec?.sessionAffinity, 'ClientIP');
    assert.equal(put.metadata?.generation, undefined, 'Services have no generation on a real cluster');
    assert.equal(put.status?.loadBalancer?.ingress, undefined);
    // Status subresource: spec and labels in the body are ignored.
    const status = await core.replaceNamespacedServiceStatus({
      name: 'split',
      namespace,
      body: {
        ...put,
        metadata: { ...put.metadata, labels: { changed: 'yes' } },
        spec: { ...put.spec, sessionAffinity: 'None' },
        status: lb,
      },
    });
    assert.equal(status.status?.loadBalancer?.ingress?.[0]?.ip, '198.51.100.7');
    assert.equal(status.spec?.sessionAffinity, 'ClientIP');
    assert.equal(JSON.stringify(status.metadata?.labels), JSON.stringify({ app: 'split' }));
    const stored = await core.readNamespacedService({ name: 'split', namespace });
    assert.deepEqual(
      [stored.spec?.sessionAffinity, stored.status?.loadBalancer?.ingress?.[0]?.ip],
      ['ClientIP', '198.51.100.7'],
    );
  });

  test('custom resources: status split both ways and generation bumped on spec changes only', async () => {
    const group = 'metalbeacon.io';
    const version = 'v1beta1';
    const plural = 'ipaddresspools';
    const namespace = 'default';
    const created = (await custom.createNamespacedCustomObject({
      group,
      version,
      namespace,
      plural,
      body: {
        apiVersion: `${group}/${version}`,
        kind: 'IPAddressPool',
        metadata: { name: 'gen' },
        spec: { addresses: ['198.51.100.0/28'] },
      },
    })) as Wire;
    assert.equal(created.metadata.generation, 1);
    const path = `/apis/${group}/${version}/namespaces/${namespace}/${plural}/gen`;
    const labelled = await http(
      'PATCH',
      path,
      { metadata: { labels: { a: 'b' } } },
      'application/merge-patch+json',
    );
    assert.equal(labelled.body.metadata.generation, 1, 'metadata changes leave generation alone');
    const withStatus = await http(
      'PATCH',
      path,
      { status: { assignedIPv4: '3' } },
      'application/merge-patch+json',
    );
    assert.equal(withStatus.body.status, undefined, 'status through the main resource is ignored');
    assert.equal(withStatus.body.metadata.generation, 1);
    const statusWrite = await http(
      'PATCH',
      `${path}/status`,
      { spec: { addresses: ['198.51.100.64/28'] }, status: { assignedIPv4: '3' } },
      'application/merge-patch+json',
    );
    assert.equal(statusWrite.status, 200);
    assert.equal(statusWrite.body.status.assignedIPv4, '3');
    assert.deepEqual(statusWrite.body.spec.addresses, ['198.51.100.0/28'], 'spec through /status is ignored');
    assert.equal(statusWrite.body.metadata.generation, 1);
    const specWrite = await http(
      'PATCH',
      path,
      { spec: { addresses: ['198.51.100.16/28'] } },
      'application/merge-patch+json',
    );
    assert.equal(specWrite.body.metadata.generation, 2);
    assert.equal(specWrite.body.status.assignedIPv4, '3', 'a spec write keeps status');
    assert.ok(
      Number(specWrite.body.metadata.resourceVersion) > Number(statusWrite.body.metadata.resourceVersion),
    );
    // A write that changes nothing keeps the resourceVersion (no event).
    const noop = await http(
      'PATCH',
      path,
      { spec: { addresses: ['198.51.100.16/28'] } },
      'application/merge-patch+json',
    );
    assert.equal(noop.body.metadata.resourceVersion, specWrite.body.metadata.resourceVersion);
  });
});

describe('CRD schema enforcement', () => {
  test('a schema violation is 422 Invalid naming each bad field; unknown fields are pruned or rejected (Strict)', async () => {
    const path = '/apis/metalbeacon.io/v1beta1/namespaces/default/ipaddresspools';
    const bad = await http('POST', path, {
      apiVersion: 'metalbeacon.io/v1beta1',
      kind: 'IPAddressPool',
      metadata: { name: 'bad' },
      spec: { addresses: 'not-a-list', autoAssign: 'maybe' },
    });
    assert.equal(bad.status, 422);
    assert.equal(bad.body.reason, 'Invalid');
    const fields = bad.body.details.causes.map((c: { field: string }) => c.field).sort();
    assert.deepEqual(fields, ['spec.addresses', 'spec.autoAssign']);
    assert.match(bad.body.message, /^IPAddressPool\.metalbeacon\.io "bad" is invalid: \[spec\./);
    const missing = await http('POST', path, {
      apiVersion: 'metalbeacon.io/v1beta1',
      kind: 'IPAddressPool',
      metadata: { name: 'empty' },
      spec: {},
    });
    assert.equal(missing.status, 422);
    assert.deepEqual(
      missing.body.details.causes.map((c: { field: string; reason: string }) => [c.field, c.reason]),
      [['spec.addresses', 'FieldValueRequired']],
    );
    const body = {
      apiVersion: 'metalbeacon.io/v1beta1',
      kind: 'IPAddressPool',
      metadata: { name: 'extra' },
      spec: { addresses: ['198.51.100.32/28'], bogus: 1 },
    };
    const strict = await http('POST', `${path}?fieldValidation=Strict`, body);
    assert.equal(strict.status, 400);
    assert.match(strict.body.message, /unknown field "spec\.bogus"/);
    const pruned = await http('POST', path, body);
    assert.equal(pruned.status, 201);
    assert.equal(pruned.body.spec.bogus, undefined);
    assert.equal(pruned.body.spec.autoAssign, true, 'schema defaults are applied');
  });

  test('a malformed CRD is 422 naming the field; a CRD whose name does not match is refused', async () => {
    const base = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.org' },
      spec: {
        group: 'example.org',
        scope: 'Namespaced',
        names: { plural: 'widgets', kind: 'Widget' },
        versions: [],
      },
    };
    const noVersions = await http('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', base);
    assert.equal(noVersions.status, 422);
    assert.deepEqual(
      noVersions.body.details.causes.map((c: { field: string }) => c.field),
      ['spec.versions'],
    );
    const badName = await http('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
      ...base,
      metadata: { name: 'gadgets.example.org' },
      spec: {
        ...base.spec,
        versions: [
          { name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } },
        ],
      },
    });
    assert.equal(badName.status, 422);
    assert.equal(badName.body.details.causes[0].field, 'metadata.name');
    assert.equal((await http('GET', '/apis/example.org/v1/widgets')).status, 404, 'nothing was registered');
  });

  test('deleting a CRD removes its endpoints and objects', async () => {
    const crd = readManifests([CRD_DIR]).find((o) => o.metadata.name === 'communities.metalbeacon.io')!;
    const before = await http('GET', '/apis/metalbeacon.io/v1beta1');
    assert.ok(before.body.resources.some((r: { name: string }) => r.name === 'communities'));
    await http('DELETE', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`);
    const afterDelete = await http('GET', '/apis/metalbeacon.io/v1beta1');
    assert.ok(!afterDelete.body.resources.some((r: { name: string }) => r.name === 'communities'));
    assert.equal((await http('GET', '/apis/metalbeacon.io/v1beta1/communities')).status, 404);
    server.applyObjects([crd]);
    assert.equal((await http('GET', '/apis/metalbeacon.io/v1beta1/communities')).status, 200);
  });
});

describe('finalizers and deletion', () => {
  test('DELETE with finalizers only marks the object; removing the last finalizer deletes it', async () => {
    const namespace = 'default';
    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'fin', finalizers: ['metalbeacon.io/a', 'metalbeacon.io/b'] } },
    });
    const rv = String(server.resourceVersion());
    const marked = await core.deleteNamespacedConfigMap({ name: 'fin', namespace });
    assert.ok(marked);
    const stored = await core.readNamespacedConfigMap({ name: 'fin', namespace });
    assert.ok(stored.metadata?.deletionTimestamp);
    const addFinalizer = await http(
      'PATCH',
      `/api/v1/namespaces/${namespace}/configmaps/fin`,
      { metadata: { finalizers: ['metalbeacon.io/a', 'metalbeacon.io/b', 'metalbeacon.io/c'] } },
      'application/merge-patch+json',
    );
    assert.equal(addFinalizer.status, 422, 'no new finalizers once deletion started');
    await http(
      'PATCH',
      `/api/v1/namespaces/${namespace}/configmaps/fin`,
      { metadata: { finalizers: ['metalbeacon.io/b'] } },
      'application/merge-patch+json',
    );
    assert.equal(await apiCode(core.readNamespacedConfigMap({ name: 'fin', namespace })), 200);
    await http(
      'PATCH',
      `/api/v1/namespaces/${namespace}/configmaps/fin`,
      { metadata: { finalizers: null } },
      'application/merge-patch+json',
    );
    assert.equal(await apiCode(core.readNamespacedConfigMap({ name: 'fin', namespace })), 404);
    const events = await watchEvents(
      `/api/v1/namespaces/${namespace}/configmaps?watch=1&resourceVersion=${rv}&timeoutSeconds=1&fieldSelector=metadata.name%3Dfin`,
    );
    assert.deepEqual(
      events.map((e) => [
        e.type,
        (e.object.metadata.finalizers ?? []).length,
        Boolean(e.object.metadata.deletionTimestamp),
      ]),
      [
        ['MODIFIED', 2, true],
        ['MODIFIED', 1, true],
        ['DELETED', 0, true],
      ],
    );
  });

  test('deleting a namespace deletes its contents; creating in it meanwhile is refused', async () => {
    await core.createNamespace({ body: { metadata: { name: 'doomed' } } });
    await core.createNamespacedConfigMap({
      namespace: 'doomed',
      body: { metadata: { name: 'held', finalizers: ['x/y'] } },
    });
    await core.createNamespacedConfigMap({ namespace: 'doomed', body: { metadata: { name: 'free' } } });
    await core.deleteNamespace({ name: 'doomed' });
    const ns = await core.readNamespace({ name: 'doomed' });
    assert.equal(ns.status?.phase, 'Terminating');
    // Like the namespace controller, contents go shortly after, not within the DELETE.
    assert.equal(await apiCode(core.readNamespacedConfigMap({ name: 'free', namespace: 'doomed' })), 200);
    await waitFor(
      'the contents are deleted',
      async () =>
        (await apiCode(core.readNamespacedConfigMap({ name: 'free', namespace: 'doomed' }))) === 404,
    );
    const refused = await apiStatus(
      core.createNamespacedConfigMap({ namespace: 'doomed', body: { metadata: { name: 'late' } } }),
    );
    assert.equal(refused.code, 403);
    await http(
      'PATCH',
      '/api/v1/namespaces/doomed/configmaps/held',
      { metadata: { finalizers: null } },
      'application/merge-patch+json',
    );
    assert.equal(await apiCode(core.readNamespace({ name: 'doomed' })), 404);
  });
});

describe('list: selectors and pagination', () => {
  before(async () => {
    await core.createNamespace({ body: { metadata: { name: 'sel' } } });
    const pods: [string, Record<string, string>, string][] = [
      ['p1', { app: 'web', tier: 'front' }, 'node-a'],
      ['p2', { app: 'web', tier: 'back' }, 'node-b'],
      ['p3', { app: 'db' }, 'node-a'],
      ['p4', { app: 'cache', env: 'prod' }, 'node-c'],
      ['p5', {}, 'node-b'],
    ];
    for (const [name, labels, nodeName] of pods) {
      await core.createNamespacedPod({
        namespace: 'sel',
        body: { metadata: { name, labels }, spec: { nodeName, containers: [{ name: 'c', image: 'i' }] } },
      });
    }
  });
  const names = async (labelSelector?: string, fieldSelector?: string) =>
    (
      await core.listNamespacedPod({
        namespace: 'sel',
        ...(labelSelector ? { labelSelector } : {}),
        ...(fieldSelector ? { fieldSelector } : {}),
      })
    ).items
      .map((p) => p.metadata!.name)
      .join(',');

  test('label selectors: =, ==, !=, in, notin, exists, !exists, combined', async () => {
    assert.equal(await names('app=web'), 'p1,p2');
    assert.equal(await names('app==db'), 'p3');
    assert.equal(await names('app!=web'), 'p3,p4,p5');
    assert.equal(await names('app in (db, cache)'), 'p3,p4');
    assert.equal(await names('app notin (web)'), 'p3,p4,p5');
    assert.equal(await names('tier'), 'p1,p2');
    assert.equal(await names('!tier'), 'p3,p4,p5');
    assert.equal(await names('app=web,tier!=back'), 'p1');
    assert.equal(
      (await apiStatus(core.listNamespacedPod({ namespace: 'sel', labelSelector: 'a b c' }))).code,
      400,
    );
  });

  test('field selectors: metadata.name, metadata.namespace, spec.nodeName; unknown fields are 400', async () => {
    assert.equal(await names(undefined, 'metadata.name=p2'), 'p2');
    assert.equal(await names(undefined, 'spec.nodeName=node-a'), 'p1,p3');
    assert.equal(await names(undefined, 'spec.nodeName!=node-a,metadata.name!=p5'), 'p2,p4');
    assert.equal(await names('app=web', 'spec.nodeName=node-b'), 'p2');
    const all = await core.listPodForAllNamespaces({ fieldSelector: 'metadata.namespace=sel' });
    assert.equal(all.items.length, 5);
    const bad = await apiStatus(core.listNamespacedPod({ namespace: 'sel', fieldSelector: 'spec.nope=1' }));
    assert.equal(bad.code, 400);
    assert.match(bad.body.message, /field label not supported: spec\.nope/);
  });

  test('limit/continue pages through a consistent list', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await core.listNamespacedPod({
        namespace: 'sel',
        limit: 2,
        ...(token ? { _continue: token } : {}),
      });
      seen.push(...page.items.map((p) => p.metadata!.name!));
      token = page.metadata?._continue || undefined;
      if (token) assert.equal(page.metadata?.remainingItemCount, 5 - seen.length);
      pages++;
    } while (token);
    assert.equal(pages, 3);
    assert.deepEqual(seen, ['p1', 'p2', 'p3', 'p4', 'p5']);
  });
});

describe('watch protocol', () => {
  test('bookmarks arrive when allowed, timeoutSeconds ends the stream, events follow the resourceVersion', async () => {
    const namespace = 'default';
    const from = server.resourceVersion();
    const created = await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'w1', labels: { w: 'x' } } },
    });
    await http(
      'PATCH',
      `/api/v1/namespaces/${namespace}/configmaps/w1`,
      { data: { a: '1' } },
      'application/merge-patch+json',
    );
    await core.deleteNamespacedConfigMap({ name: 'w1', namespace });
    const events = await watchEvents(
      `/api/v1/namespaces/${namespace}/configmaps?watch=true&resourceVersion=${from}&allowWatchBookmarks=true&timeoutSeconds=1&labelSelector=w%3Dx`,
    );
    const changes = events.filter((e) => e.type !== 'BOOKMARK');
    assert.deepEqual(
      changes.map((e) => e.type),
      ['ADDED', 'MODIFIED', 'DELETED'],
    );
    assert.equal(changes[0]!.object.metadata.resourceVersion, created.metadata!.resourceVersion);
    assert.equal(changes[0]!.object.kind, 'ConfigMap');
    const bookmarks = events.filter((e) => e.type === 'BOOKMARK');
    assert.ok(bookmarks.length >= 1, 'at least one bookmark in a second at 100 ms intervals');
    assert.equal(bookmarks.at(-1)!.object.metadata.resourceVersion, String(server.resourceVersion()));
  });

  test('a selector watch turns objects that stop (start) matching into DELETED (ADDED)', async () => {
    const namespace = 'default';
    const from = server.resourceVersion();
    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'mover', labels: { team: 'a' } } },
    });
    await http(
      'PATCH',
      `/api/v1/namespaces/${namespace}/configmaps/mover`,
      { metadata: { labels: { team: 'b' } } },
      'application/merge-patch+json',
    );
    await http(
      'PATCH',
      `/api/v1/namespaces/${namespace}/configmaps/mover`,
      { metadata: { labels: { team: 'a' } } },
      'application/merge-patch+json',
    );
    const events = await watchEvents(
      `/api/v1/watch/namespaces/${namespace}/configmaps?resourceVersion=${from}&timeoutSeconds=1&labelSelector=team%3Da`,
    );
    assert.deepEqual(
      events.map((e) => e.type),
      ['ADDED', 'DELETED', 'ADDED'],
    );
  });

  test('a watch from a compacted resourceVersion gets an ERROR event with a 410 Expired Status', async () => {
    const old = server.resourceVersion();
    await core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'after-compaction' } },
    });
    server.compactHistory();
    const events = await watchEvents(
      `/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${old}&timeoutSeconds=5`,
    );
    assert.equal(events.length, 1);
    assert.equal(events[0]!.type, 'ERROR');
    assert.deepEqual(
      [events[0]!.object.kind, events[0]!.object.code, events[0]!.object.reason],
      ['Status', 410, 'Expired'],
    );
    assert.match(events[0]!.object.message, /too old resource version/);
  });

  test('a watch without resourceVersion starts with the current objects as ADDED', async () => {
    const events = await watchEvents('/api/v1/namespaces?watch=1&timeoutSeconds=1');
    const names = events.map((e) => `${e.type} ${e.object.metadata.name}`);
    assert.ok(names.includes('ADDED default') && names.includes('ADDED kube-system'), names.join(', '));
  });
});

describe('patch types', () => {
  test('merge, JSON and strategic merge patches on a Service (ports merge by port)', async () => {
    const namespace = 'default';
    await core.createNamespacedService({
      namespace,
      body: lbService('patched', {
        ports: [
          { name: 'http', port: 80 },
          { name: 'https', port: 443 },
        ],
      }),
    });
    const path = `/api/v1/namespaces/${namespace}/services/patched`;
    const smp = await http(
      'PATCH',
      path,
      {
        spec: {
          ports: [
            { name: 'dns', port: 53, protocol: 'UDP' },
            { port: 80, $patch: 'delete' },
          ],
        },
      },
      'application/strategic-merge-patch+json',
    );
    assert.equal(smp.status, 200);
    assert.deepEqual(
      smp.body.spec.ports.map((p: { port: number }) => p.port),
      [443, 53],
    );
    const merge = await http(
      'PATCH',
      path,
      { spec: { ports: [{ name: 'only', port: 8080 }] } },
      'application/merge-patch+json',
    );
    assert.deepEqual(
      merge.body.spec.ports.map((p: { port: number }) => p.port),
      [8080],
      'a merge patch replaces lists',
    );
    const json = await http(
      'PATCH',
      path,
      [
        { op: 'add', path: '/metadata/labels/extra', value: 'yes' },
        { op: 'test', path: '/spec/type', value: 'LoadBalancer' },
      ],
      'application/json-patch+json',
    );
    assert.equal(json.body.metadata.labels.extra, 'yes');
    const failed = await http(
      'PATCH',
      path,
      [{ op: 'test', path: '/spec/type', value: 'ClusterIP' }],
      'application/json-patch+json',
    );
    assert.equal(failed.status, 422);
    const unsupported = await http(
      'PATCH',
      '/apis/metalbeacon.io/v1beta1/namespaces/default/ipaddresspools/gen',
      { spec: {} },
      'application/strategic-merge-patch+json',
    );
    assert.equal(unsupported.status, 415, 'custom resources do not take strategic merge patches');
  });

  test('dryRun=All validates and answers without storing', async () => {
    const rv = server.resourceVersion();
    const res = await http('POST', '/api/v1/namespaces/default/configmaps?dryRun=All', {
      metadata: { name: 'dry' },
    });
    assert.equal(res.status, 201);
    assert.equal(server.resourceVersion(), rv);
    assert.equal(await apiCode(core.readNamespacedConfigMap({ name: 'dry', namespace: 'default' })), 404);
  });
});

describe('garbage collection', () => {
  test('deleting an owner deletes dependents whose owners are all gone (background propagation)', async () => {
    const namespace = 'default';
    const owner = await core.createNamespacedService({ namespace, body: lbService('owner') });
    const other = await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'other-owner' } },
    });
    const ref = (o: { metadata?: { name?: string; uid?: string } }, kind: string) => ({
      apiVersion: 'v1',
      kind,
      name: o.metadata!.name!,
      uid: o.metadata!.uid!,
    });
    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'dep-only', ownerReferences: [ref(owner, 'Service')] } },
    });
    await core.createNamespacedConfigMap({
      namespace,
      body: {
        metadata: { name: 'dep-shared', ownerReferences: [ref(owner, 'Service'), ref(other, 'ConfigMap')] },
      },
    });
    await core.deleteNamespacedService({ name: 'owner', namespace });
    assert.equal(await apiCode(core.readNamespacedConfigMap({ name: 'dep-only', namespace })), 404);
    assert.equal(
      await apiCode(core.readNamespacedConfigMap({ name: 'dep-shared', namespace })),
      200,
      'another owner still exists',
    );
    await core.deleteNamespacedConfigMap({ name: 'other-owner', namespace });
    assert.equal(await apiCode(core.readNamespacedConfigMap({ name: 'dep-shared', namespace })), 404);
  });
});

describe('events under two APIs', () => {
  test('an Event written as events.k8s.io/v1 is the same object as core/v1, and the other way round', async () => {
    const created = await http('POST', '/apis/events.k8s.io/v1/namespaces/default/events', {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: 'e1' },
      eventTime: '2026-01-01T00:00:00.000000Z',
      regarding: { kind: 'Service', name: 'split', namespace: 'default' },
      reason: 'IPAllocated',
      note: 'Assigned IP',
      type: 'Normal',
      action: 'Allocate',
      reportingController: 'metalbeacon.io/controller',
      reportingInstance: 'controller-0',
    });
    assert.equal(created.status, 201);
    assert.equal(created.body.note, 'Assigned IP');
    const core = await http('GET', '/api/v1/namespaces/default/events/e1');
    assert.deepEqual(
      [core.body.apiVersion, core.body.message, core.body.involvedObject.name, core.body.reportingComponent],
      ['v1', 'Assigned IP', 'split', 'metalbeacon.io/controller'],
    );
    const byField = await http(
      'GET',
      '/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dsplit',
    );
    assert.deepEqual(
      byField.body.items.map((e: Wire) => e.metadata.name),
      ['e1'],
    );
    await http(
      'PATCH',
      '/api/v1/namespaces/default/events/e1',
      { message: 'changed' },
      'application/merge-patch+json',
    );
    const again = await http('GET', '/apis/events.k8s.io/v1/namespaces/default/events/e1');
    assert.deepEqual(
      [again.body.apiVersion, again.body.note, again.body.message],
      ['events.k8s.io/v1', 'changed', undefined],
    );
  });
});

describe('delete collection', () => {
  test('DELETE on a collection removes what the selector matches and nothing else', async () => {
    await core.createNamespace({ body: { metadata: { name: 'bulk' } } });
    for (const [name, tier] of [
      ['one', 'a'],
      ['two', 'a'],
      ['three', 'b'],
    ]) {
      await core.createNamespacedConfigMap({
        namespace: 'bulk',
        body: { metadata: { name, labels: { tier: tier! } } },
      });
    }
    const res = await http('DELETE', '/api/v1/namespaces/bulk/configmaps?labelSelector=tier%3Da');
    assert.equal(res.status, 200);
    assert.equal(res.body.kind, 'ConfigMapList');
    const left = await core.listNamespacedConfigMap({ namespace: 'bulk' });
    assert.deepEqual(
      left.items.map((c) => c.metadata!.name),
      ['three'],
    );
  });
});

describe('patch preconditions', () => {
  test('a patch naming a stale resourceVersion is 409; without one it applies to the current version', async () => {
    const cm = await core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'pre' }, data: { a: '1' } },
    });
    const path = '/api/v1/namespaces/default/configmaps/pre';
    const stale = cm.metadata!.resourceVersion!;
    assert.equal(
      (await http('PATCH', path, { data: { a: '2' } }, 'application/merge-patch+json')).status,
      200,
    );
    // The stale version in each patch type's own form; none of them applies.
    for (const [body, type] of [
      [{ metadata: { resourceVersion: stale }, data: { a: '3' } }, 'application/merge-patch+json'],
      [[{ op: 'replace', path: '/metadata/resourceVersion', value: stale }], 'application/json-patch+json'],
      [{ metadata: { resourceVersion: stale }, data: { a: '4' } }, 'application/strategic-merge-patch+json'],
    ] as const) {
      assert.equal((await http('PATCH', path, body, type)).status, 409, type);
    }
    assert.equal((await core.readNamespacedConfigMap({ name: 'pre', namespace: 'default' })).data?.a, '2');
  });
});

describe('built-in field decoding', () => {
  test('unknown Service fields are dropped, or a 400 with fieldValidation=Strict, as the real decoder does', async () => {
    const body = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'typo', bogusMeta: 1 },
      spec: { type: 'LoadBalancer', loadBalancerIp: '198.51.100.9', ports: [{ port: 80, nodPort: 30080 }] },
    };
    const strict = await http('POST', '/api/v1/namespaces/default/services?fieldValidation=Strict', body);
    assert.equal(strict.status, 400);
    assert.match(
      strict.body.message,
      /strict decoding error: unknown field "metadata\.bogusMeta", unknown field "spec\.loadBalancerIp", unknown field "spec\.ports\[0\]\.nodPort"/,
    );
    const lax = await http('POST', '/api/v1/namespaces/default/services', body);
    assert.equal(lax.status, 201);
    assert.equal(lax.body.spec.loadBalancerIp, undefined);
    assert.equal(lax.body.spec.ports[0].nodPort, undefined);
    assert.equal(lax.body.metadata.bogusMeta, undefined);
    const status = await http(
      'PATCH',
      '/api/v1/namespaces/default/services/typo/status',
      { status: { loadBalancer: { ingress: [{ ip: '198.51.100.9', bogus: true }] } } },
      'application/merge-patch+json',
    );
    assert.deepEqual(status.body.status.loadBalancer.ingress, [{ ip: '198.51.100.9' }]);
  });
});

describe('generation per kind', () => {
  test('Pods (since 1.34) track generation, ConfigMaps do not', async () => {
    const pod = await core.createNamespacedPod({
      namespace: 'default',
      body: { metadata: { name: 'gen-pod' }, spec: { containers: [{ name: 'c', image: 'a' }] } },
    });
    assert.equal(pod.metadata?.generation, 1);
    const patched = await http(
      'PATCH',
      '/api/v1/namespaces/default/pods/gen-pod',
      { spec: { containers: [{ name: 'c', image: 'b' }] } },
      'application/strategic-merge-patch+json',
    );
    assert.equal(patched.body.metadata.generation, 2);
    const cm = await core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'gen-cm', generation: 7 } },
    });
    assert.equal(cm.metadata?.generation, undefined);
  });
});
