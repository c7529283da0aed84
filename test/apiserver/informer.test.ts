import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CoreV1Api, makeInformer, type V1ConfigMap } from '@kubernetes/client-node';
import { type ApiServerHandle, startApiServer } from '../../apiserver/server.ts';
import { Informer, LIST_PAGE } from '../../shared/k8s/informer.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import { kubeClientFromText, kubeConfigFor } from '../support/kube-client.ts';

let server: ApiServerHandle;
before(async () => {
  server = await startApiServer({ bookmarkIntervalMs: 200 });
});
after(() => server.stop());

/** What both informers offer: client-node's ListWatch and ours (shared/k8s/informer.ts). */
interface AnyInformer {
  on(verb: 'add' | 'update' | 'delete', callback: (cm: V1ConfigMap) => void): void;
  on(verb: 'error', callback: (error: unknown) => void): void;
  start(): Promise<void>;
  stop(): unknown;
  list(namespace?: string): readonly V1ConfigMap[];
}

const PATH = '/api/v1/namespaces/default/configmaps';

test('a client-node informer sees every change exactly once, also across a forced 410 relist', async () => {
  const kc = kubeConfigFor(server.kubeconfigText);
  const core = kc.makeApiClient(CoreV1Api);
  await everyChangeOnce(core, (count) =>
    makeInformer<V1ConfigMap>(kc, PATH, () => {
      count();
      return core.listNamespacedConfigMap({ namespace: 'default' });
    }),
  );
});

test("MetalBeacon's informer sees every change exactly once, also across a forced 410 relist", async () => {
  const core = kubeConfigFor(server.kubeconfigText).makeApiClient(CoreV1Api);
  const client = kubeClientFromText(server.kubeconfigText);
  await everyChangeOnce(core, (count) => {
    const list = client.list.bind(client);
    client.list = (path, query) => {
      count();
      return list(path, query);
    };
    return new Informer<V1ConfigMap>(client, PATH);
  });
  client.close();
});

async function everyChangeOnce(core: CoreV1Api, make: (countList: () => void) => AnyInformer): Promise<void> {
  const namespace = 'default';
  let lists = 0;
  const informer = make(() => lists++);
  const seen: { verb: 'add' | 'update' | 'delete'; name: string; rv: string }[] = [];
  for (const verb of ['add', 'update', 'delete'] as const) {
    informer.on(verb, (cm) =>
      seen.push({ verb, name: cm.metadata!.name!, rv: cm.metadata!.resourceVersion! }),
    );
  }
  const errors: unknown[] = [];
  informer.on('error', (e) => errors.push(e));
  await informer.start();

  /** name → resourceVersion, on the server and in the informer's cache */
  const serverState = async () =>
    new Map(
      (await core.listNamespacedConfigMap({ namespace })).items.map((c) => [
        c.metadata!.name!,
        c.metadata!.resourceVersion!,
      ]),
    );
  const cacheState = () =>
    new Map(informer.list(namespace).map((c) => [c.metadata!.name!, c.metadata!.resourceVersion!]));
  const converged = async () => {
    const want = await serverState();
    await waitFor('the informer cache to match the server', async () => {
      const have = cacheState();
      return have.size === want.size && [...want].every(([n, rv]) => have.get(n) === rv);
    });
  };
  /** resourceVersions written while the watch was connected: each must be delivered. */
  const written: { name: string; rv: string; verb: 'add' | 'update' | 'delete' }[] = [];
  const record = (verb: 'add' | 'update' | 'delete', cm: V1ConfigMap) =>
    written.push({ verb, name: cm.metadata!.name!, rv: cm.metadata!.resourceVersion! });

  // Phase A: connected.
  for (let i = 0; i < 10; i++) {
    record(
      'add',
      await core.createNamespacedConfigMap({
        namespace,
        body: { metadata: { name: `cm-${i}` }, data: { v: '0' } },
      }),
    );
  }
  for (let i = 0; i < 5; i++) {
    const cm = await core.readNamespacedConfigMap({ name: `cm-${i}`, namespace });
    cm.data = { v: '1' };
    record('update', await core.replaceNamespacedConfigMap({ name: `cm-${i}`, namespace, body: cm }));
  }
  await core.deleteNamespacedConfigMap({ name: 'cm-5', namespace });
  await converged();
  assert.equal(lists, 1);

  // Phase B: the watch is cut and, before the informer can resume, objects change and the
  // history is compacted, so its resume gets 410 Gone and it must relist.
  const rvBefore = server.resourceVersion();
  server.cutWatches();
  const [changed, added] = server.applyObjects([
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm-6', namespace }, data: { v: 'gap' } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm-new', namespace }, data: { v: 'gap' } },
  ]);
  server.deleteObject('v1', 'ConfigMap', namespace, 'cm-7');
  server.compactHistory();
  assert.ok(server.resourceVersion() > rvBefore);
  await converged();
  assert.equal(lists, 2, 'the informer relisted after 410 Gone');
  assert.ok(
    seen.some((s) => s.verb === 'update' && s.name === 'cm-6' && s.rv === changed!.metadata.resourceVersion),
  );
  assert.ok(
    seen.some((s) => s.verb === 'add' && s.name === 'cm-new' && s.rv === added!.metadata.resourceVersion),
  );
  assert.equal(seen.filter((s) => s.verb === 'delete' && s.name === 'cm-7').length, 1);

  // Phase C: connected again after the relist.
  for (let i = 0; i < 3; i++) {
    const cm = await core.readNamespacedConfigMap({ name: `cm-${i}`, namespace });
    cm.data = { v: '2' };
    record('update', await core.replaceNamespacedConfigMap({ name: `cm-${i}`, namespace, body: cm }));
  }
  await core.deleteNamespacedConfigMap({ name: 'cm-8', namespace });
  record('add', await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'cm-late' } } }));
  await converged();
  await informer.stop();

  // No gaps: every version written while connected was delivered with the right verb.
  for (const w of written) {
    assert.ok(
      seen.some((s) => s.verb === w.verb && s.name === w.name && s.rv === w.rv),
      `missing ${w.verb} ${w.name}@${w.rv}`,
    );
  }
  // No duplicates: each object version arrives once, versions only move forward.
  const versions = seen.filter((s) => s.verb !== 'delete').map((s) => `${s.name}@${s.rv}`);
  assert.equal(new Set(versions).size, versions.length, `duplicate deliveries: ${versions.join(' ')}`);
  const lastRv = new Map<string, number>();
  for (const s of seen) {
    if (s.verb === 'delete') continue;
    assert.ok(Number(s.rv) > (lastRv.get(s.name) ?? 0), `${s.name} went back to ${s.rv}`);
    lastRv.set(s.name, Number(s.rv));
  }
  // Deleted exactly once each, and nothing else deleted.
  const deletes = seen
    .filter((s) => s.verb === 'delete')
    .map((s) => s.name)
    .sort();
  assert.deepEqual(deletes, ['cm-5', 'cm-7', 'cm-8']);
  assert.deepEqual(errors, []);
  // Leaves the namespace empty for the next informer.
  for (const cm of (await core.listNamespacedConfigMap({ namespace })).items)
    await core.deleteNamespacedConfigMap({ name: cm.metadata!.name!, namespace });
}

test("MetalBeacon's informer lists in pages: one snapshot, trimmed page by page, deletions found across pages", async () => {
  const namespace = 'paged';
  const count = 2 * LIST_PAGE + 37;
  const objects = (n: number, v: string) =>
    Array.from({ length: n }, (_, i) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `cm-${i}`, namespace, annotations: { big: 'x'.repeat(100) } },
      data: { v },
    }));
  server.applyObjects([
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
    ...objects(count, 'first'),
  ] as never);
  const client = kubeClientFromText(server.kubeconfigText);
  const queries: Record<string, unknown>[] = [];
  const list = client.list.bind(client);
  client.list = (path, query) => {
    queries.push({ ...query });
    return list(path, query);
  };
  let trimmed = 0;
  const informer = new Informer<V1ConfigMap>(client, `/api/v1/namespaces/${namespace}/configmaps`, {
    trim: (cm) => {
      trimmed++;
      return {
        metadata: { name: cm.metadata?.name, namespace, resourceVersion: cm.metadata?.resourceVersion },
        data: cm.data,
      };
    },
  });
  const added: string[] = [];
  const deleted: string[] = [];
  informer.on('add', (cm) => added.push(cm.metadata!.name!));
  informer.on('delete', (cm) => deleted.push(cm.metadata!.name!));
  await informer.start();
  try {
    assert.equal(queries.length, 3, 'three pages');
    assert.deepEqual(
      queries.map((q) => [q.limit, typeof q.continue]),
      [
        [LIST_PAGE, 'undefined'],
        [LIST_PAGE, 'string'],
        [LIST_PAGE, 'string'],
      ],
    );
    assert.equal(new Set(added).size, count);
    assert.equal(added.length, count, 'each object added once');
    assert.equal(trimmed, count);
    assert.equal(informer.list(namespace).length, count);
    assert.equal(
      informer.list(namespace)[0]?.metadata?.annotations,
      undefined,
      'the cache holds trimmed objects',
    );
    assert.equal(informer.latestResourceVersion() !== '', true);

    // A relist after 410 over pages: objects missing from every page are deleted, once.
    server.cutWatches();
    for (const name of ['cm-3', `cm-${LIST_PAGE + 1}`, `cm-${count - 1}`])
      server.deleteObject('v1', 'ConfigMap', namespace, name);
    server.compactHistory();
    await waitFor('the deletions to reach the informer', async () => deleted.length === 3);
    assert.deepEqual(deleted.sort(), ['cm-3', `cm-${count - 1}`, `cm-${LIST_PAGE + 1}`].sort());
    assert.equal(informer.list(namespace).length, count - 3);
  } finally {
    informer.stop();
    client.close();
  }
});
