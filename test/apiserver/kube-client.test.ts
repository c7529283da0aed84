import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { type ApiServerHandle, startApiServer } from '../../apiserver/server.ts';
import { ApiError, KubeClient, type WatchEvent } from '../../shared/k8s/client.ts';
import { Informer } from '../../shared/k8s/informer.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import { kubeClientFromText } from '../support/kube-client.ts';

// MetalBeacon's own REST client and informer (shared/k8s) against the embedded API server.
let server: ApiServerHandle;
let client: KubeClient;
const CMS = '/api/v1/namespaces/default/configmaps';
before(async () => {
  server = await startApiServer({ bookmarkIntervalMs: 200 });
  client = kubeClientFromText(server.kubeconfigText);
});
after(async () => {
  client.close();
  await server.stop();
});

describe('KubeClient', () => {
  it('creates, reads, patches three ways, replaces and deletes', async () => {
    await client.create(CMS, { metadata: { name: 'k1' }, data: { a: '1' } });
    await client.patch(`${CMS}/k1`, { data: { b: '2' } });
    await client.patch(`${CMS}/k1`, { data: { c: '3' } }, 'strategic');
    await client.patch(`${CMS}/k1`, [{ op: 'remove', path: '/data/a' }], 'json');
    const cm = await client.get<V1ConfigMap>(`${CMS}/k1`);
    assert.deepEqual(cm.data, { b: '2', c: '3' });
    const replaced = await client.replace<V1ConfigMap>(`${CMS}/k1`, { ...cm, data: { d: '4' } });
    assert.deepEqual(replaced.data, { d: '4' });
    assert.equal(
      (await client.list<V1ConfigMap>(CMS, { fieldSelector: 'metadata.name=k1' })).items.length,
      1,
    );
    await client.delete(`${CMS}/k1`);
    await assert.rejects(client.get(`${CMS}/k1`), (error: unknown) => {
      assert.ok(error instanceof ApiError);
      assert.equal(error.code, 404);
      assert.match(
        error.message,
        /^GET \/api\/v1\/namespaces\/default\/configmaps\/k1: HTTP 404: .*not found/,
      );
      return true;
    });
  });

  it('rejects a stale conditional write with 409 and the server message', async () => {
    const cm = await client.create<V1ConfigMap>(CMS, { metadata: { name: 'k2' } });
    await client.patch(`${CMS}/k2`, { data: { x: '1' } });
    await assert.rejects(
      client.patch(`${CMS}/k2`, {
        metadata: { resourceVersion: cm.metadata?.resourceVersion },
        data: { x: '2' },
      }),
      (error: ApiError) => error.code === 409 && /PATCH .*k2: HTTP 409/.test(error.message),
    );
    await client.delete(`${CMS}/k2`);
  });

  it('gives up on a server that accepts but never answers, at the deadline', async () => {
    const { createServer } = await import('node:net');
    const held: import('node:net').Socket[] = [];
    const silent = createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    const mute = new KubeClient({
      server: new URL(`http://127.0.0.1:${port}`),
      tls: { rejectUnauthorized: true },
      headers: async () => ({}),
    });
    try {
      await assert.rejects(mute.get('/version', undefined, { timeoutMs: 200 }), {
        message: 'GET /version: no answer in 200 ms',
      });
    } finally {
      mute.close();
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('streams watch events and ends when the server ends the watch', async () => {
    const { metadata } = await client.list(CMS);
    const events: WatchEvent<V1ConfigMap>[] = [];
    const done = client.watch<V1ConfigMap>(
      CMS,
      { resourceVersion: metadata?.resourceVersion, timeoutSeconds: 1 },
      (event) => events.push(event),
    );
    await client.create(CMS, { metadata: { name: 'k3' } });
    await done;
    assert.ok(events.some((e) => e.type === 'ADDED' && e.object.metadata?.name === 'k3'));
    await client.delete(`${CMS}/k3`);
  });
});

describe('Informer', () => {
  it('caches trimmed objects and reports them trimmed', async () => {
    const informer = new Informer<V1ConfigMap>(client, CMS, {
      trim: (cm) => ({
        metadata: { ...cm.metadata, managedFields: undefined },
        data: { kept: cm.data?.kept ?? '' },
      }),
    });
    const added: V1ConfigMap[] = [];
    informer.on('add', (cm) => added.push(cm));
    await informer.start();
    await client.create(CMS, { metadata: { name: 'k4' }, data: { kept: 'yes', dropped: 'no' } });
    await waitFor('the informer to see k4', async () => informer.get('k4', 'default') !== undefined);
    assert.deepEqual(informer.get('k4', 'default')?.data, { kept: 'yes' });
    assert.deepEqual(added.at(-1)?.data, { kept: 'yes' });
    informer.stop();
    await client.delete(`${CMS}/k4`);
  });

  it('calls the error callbacks and stops when the collection does not exist', async () => {
    const informer = new Informer(client, '/apis/metalbeacon.io/v1beta1/namespaces/default/nothings');
    const errors: unknown[] = [];
    informer.on('error', (error) => errors.push(error));
    await informer.start();
    assert.equal(errors.length, 1);
    assert.equal((errors[0] as ApiError).code, 404);
  });

  it('resumes a cut watch from its resourceVersion without relisting', async () => {
    const informer = new Informer<V1ConfigMap>(client, CMS);
    let lists = 0;
    const list = client.list.bind(client);
    client.list = (path, query) => {
      lists++;
      return list(path, query);
    };
    try {
      await informer.start();
      server.cutWatches();
      await client.create(CMS, { metadata: { name: 'k5' } });
      await waitFor('the informer to see k5', async () => informer.get('k5', 'default') !== undefined);
      assert.equal(lists, 1);
    } finally {
      client.list = list;
      informer.stop();
    }
    await client.delete(`${CMS}/k5`);
  });
});
