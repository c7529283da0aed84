import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CoreV1Api, makeInformer, type V1ConfigMap } from '@kubernetes/client-node';
import { type ApiServerHandle, startApiServer } from '../../apiserver/server.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import { kubeConfigFor } from '../support/kube-client.ts';

let server: ApiServerHandle;
before(async () => {
  server = await startApiServer();
});
after(() => server.stop());

/**
 * The client-node informer stops on a connection error (it only emits 'error'), so a component
 * must restart it; this is the pattern the controller uses, shown against a server restart.
 */
test('API server restart with the same data: a restarted informer converges, nothing is lost', async () => {
  const kc = kubeConfigFor(server.kubeconfigText);
  const core = kc.makeApiClient(CoreV1Api);
  const namespace = 'default';
  let lists = 0;
  const informer = makeInformer<V1ConfigMap>(kc, '/api/v1/namespaces/default/configmaps', () => {
    lists++;
    return core.listNamespacedConfigMap({ namespace });
  });
  let errors = 0;
  let stopped = false;
  informer.on('error', () => {
    errors++;
    if (!stopped) setTimeout(() => void informer.start().catch(() => {}), 100);
  });
  const seen: string[] = [];
  informer.on('add', (cm) => seen.push(`add ${cm.metadata!.name}`));
  informer.on('update', (cm) => seen.push(`update ${cm.metadata!.name}`));
  informer.on('delete', (cm) => seen.push(`delete ${cm.metadata!.name}`));
  await informer.start();
  await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'before' } } });
  await waitFor('the informer sees the first object', () => informer.list(namespace).length === 1);

  await server.restart({ downMs: 300 });
  const during = await core.readNamespacedConfigMap({ name: 'before', namespace });
  assert.ok(during.metadata?.uid, 'the data survived the restart');
  await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'after' } } });
  await core.deleteNamespacedConfigMap({ name: 'before', namespace });
  await waitFor('the informer converges after the restart', () => {
    const names = informer.list(namespace).map((c) => c.metadata!.name);
    return names.length === 1 && names[0] === 'after';
  });
  stopped = true;
  await informer.stop();
  assert.ok(errors >= 1, 'the cut connection surfaced as an informer error');
  // It had seen everything before the restart, so resuming at its version is not "too old".
  assert.equal(lists, 1, 'an up-to-date informer resumes without relisting');
  assert.deepEqual(seen, ['add before', 'add after', 'delete before']);
});
