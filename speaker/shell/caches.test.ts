import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expectConfig } from '../../shared/config/test-helpers.ts';
import { ManualTimers, settle } from '../../shared/daemon/manual-timers.ts';
import {
  ApiError,
  type KubeClient,
  type KubeList,
  type Query,
  type WatchEvent,
} from '../../shared/k8s/client.ts';
import { SpeakerCaches } from './caches.ts';
import { capturedLog } from './test-helpers.ts';

const NS = 'metalbeacon-system';

/**
 * List, watch and get as the caches use them (shared/k8s/client.ts): `objects` answers the LISTs
 * by path, `send` pushes a watch event to the informer of a path, `named` answers GETs (404 for
 * any other path). Records what each LIST and GET asked for.
 */
class ScriptedApi {
  readonly objects = new Map<string, object[]>();
  readonly named = new Map<string, object>();
  readonly lists: string[] = [];
  readonly gets: string[] = [];

  async get<T>(path: string): Promise<T> {
    this.gets.push(path);
    const object = this.named.get(path);
    if (!object) throw new ApiError('GET', path, 404, '{"message":"not found"}');
    return object as T;
  }
  readonly #watchers = new Map<string, (event: WatchEvent<unknown>) => void>();

  async list<T>(path: string, query?: Query): Promise<KubeList<T>> {
    this.lists.push(`${path}${query?.labelSelector ? `?${query.labelSelector}` : ''}`);
    return { metadata: { resourceVersion: '1' }, items: (this.objects.get(path) ?? []) as T[] };
  }

  async watch<T>(path: string, _q: unknown, onEvent: (e: WatchEvent<T>) => void, signal?: AbortSignal) {
    this.#watchers.set(path, onEvent as (e: WatchEvent<unknown>) => void);
    await new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve()));
  }

  send(path: string, object: object): void {
    const watcher = this.#watchers.get(path);
    assert.ok(watcher, `nobody watches ${path}`);
    watcher({ type: 'ADDED', object });
  }
}

async function started() {
  const api = new ScriptedApi();
  const node = (name: string) => ({
    metadata: { name, labels: { zone: 'a' }, resourceVersion: '1', managedFields: [{}] },
    status: { addresses: [{ type: 'InternalIP', address: '192.0.2.11' }], images: [{}] },
  });
  api.objects.set('/api/v1/nodes', [node('node-a')]);
  const { log, messages } = capturedLog();
  const caches = new SpeakerCaches({
    client: api as unknown as KubeClient,
    namespace: NS,
    nodeName: 'node-a',
    speakerSelector: 'app.kubernetes.io/component=speaker',
    log,
    stopping: () => false,
  });
  const reactions: string[] = [];
  caches.react({
    reconfigure: () => reactions.push('reconfigure'),
    replan: () => reactions.push('replan'),
    restatus: () => reactions.push('restatus'),
    speakersChanged: () => reactions.push('speakersChanged'),
    nodesChanged: () => reactions.push('nodesChanged'),
  });
  await caches.sync();
  await settle();
  return { api, caches, reactions, messages };
}

describe('SpeakerCaches', () => {
  it("lists what the speaker reads: our namespace's CRs and speaker Pods, this node's status objects only; no Secret", async () => {
    const { api, caches } = await started();
    const apis = `/apis/metalbeacon.io/v1beta1/namespaces/${NS}`;
    assert.deepEqual(api.lists.sort(), [
      `/api/v1/namespaces/${NS}/pods?app.kubernetes.io/component=speaker`,
      '/api/v1/nodes',
      '/api/v1/services',
      '/apis/discovery.k8s.io/v1/endpointslices',
      `${apis}/bfdprofiles`,
      `${apis}/bgpadvertisements`,
      `${apis}/bgppeers`,
      `${apis}/communities`,
      `${apis}/ipaddresspools`,
      `${apis}/l2advertisements`,
      `${apis}/servicebgpstatuses?metalbeacon.io/node=node-a`,
      `${apis}/servicel2statuses?metalbeacon.io/node=node-a`,
    ]);
    assert.deepEqual(
      caches.own.map((o) => o.plural),
      ['servicel2statuses', 'servicebgpstatuses'],
    );
    assert.deepEqual(api.gets, [], 'no BGPPeer names a Secret: none is read');
    caches.informers.stop();
  });

  it('keeps the trimmed objects and hands the config builder and the planner what they read', async () => {
    const { caches } = await started();
    assert.deepEqual(caches.nodes.get('node-a'), {
      metadata: { name: 'node-a', labels: { zone: 'a' }, resourceVersion: '1' },
      status: { addresses: [{ type: 'InternalIP', address: '192.0.2.11' }] },
    });
    assert.deepEqual(caches.configInputs().nodes, [{ metadata: { name: 'node-a', labels: { zone: 'a' } } }]);
    assert.deepEqual(caches.nodeAddresses(), ['192.0.2.11']);
    assert.deepEqual(caches.counts(), { services: 0, nodes: 1, speakers: 0 });
    assert.equal(caches.planInput(undefined, ['node-a'], undefined), undefined, 'no configuration: no plan');
    const input = caches.planInput(expectConfig({}), ['node-a'], undefined);
    assert.deepEqual(input?.nodes, [{ name: 'node-a', labels: { zone: 'a' }, networkUnavailable: false }]);
    caches.informers.stop();
  });

  it('passes each change on to what it asks for', async () => {
    const { api, caches, reactions } = await started();
    const apis = `/apis/metalbeacon.io/v1beta1/namespaces/${NS}`;
    const changes: [string, string[]][] = [
      ['/api/v1/services', ['replan']],
      ['/apis/discovery.k8s.io/v1/endpointslices', ['replan']],
      ['/api/v1/nodes', ['nodesChanged', 'reconfigure']],
      [`${apis}/ipaddresspools`, ['reconfigure']],
      [`${apis}/bgppeers`, ['reconfigure']],
      [`${apis}/servicel2statuses`, ['restatus']],
      [`${apis}/servicebgpstatuses`, ['restatus']],
      [`/api/v1/namespaces/${NS}/pods`, ['speakersChanged']],
    ];
    for (const [path, expected] of changes) {
      reactions.length = 0;
      api.send(path, { metadata: { name: 'x', namespace: NS, resourceVersion: '2' } });
      await settle(); // a BGPPeer change reads the password Secrets first
      assert.deepEqual(reactions, expected, path);
    }
    caches.informers.stop();
  });

  it('reads the password Secrets the BGPPeers name, by name, keeping only the password; again on refresh', async () => {
    const { api, caches, reactions } = await started();
    const path = `/api/v1/namespaces/${NS}/secrets/router`;
    const secret = (password: string) => ({
      metadata: { name: 'router', namespace: NS, annotations: { 'kubectl.kubernetes.io/last-applied': 'x' } },
      type: 'kubernetes.io/basic-auth',
      data: { password: Buffer.from(password).toString('base64'), username: 'dXNlcg==' },
    });
    api.named.set(path, secret('one'));
    reactions.length = 0;
    api.send(`/apis/metalbeacon.io/v1beta1/namespaces/${NS}/bgppeers`, {
      metadata: { name: 'router', namespace: NS, resourceVersion: '2' },
      spec: { passwordSecret: { name: 'router' } },
    });
    await settle();
    assert.deepEqual(api.gets, [path]);
    assert.deepEqual(reactions, ['reconfigure', 'reconfigure'], 'the new Secret, then the BGPPeer');
    assert.deepEqual(caches.configInputs().secrets, [
      {
        metadata: { name: 'router', namespace: NS },
        type: 'kubernetes.io/basic-auth',
        data: { password: Buffer.from('one').toString('base64') },
      },
    ]);

    // Rotated: the periodic refresh reads it again and says so; unchanged, it says nothing.
    const timers = new ManualTimers();
    const stopRefresh = caches.refreshPasswordsEvery(timers, 60_000);
    api.named.set(path, secret('two'));
    reactions.length = 0;
    await timers.advance(59_999);
    assert.deepEqual(api.gets, [path], 'not before the period');
    await timers.advance(1);
    await settle();
    assert.deepEqual(reactions, ['reconfigure']);
    assert.equal(caches.configInputs().secrets?.[0]?.data?.password, Buffer.from('two').toString('base64'));
    reactions.length = 0;
    await timers.advance(60_000);
    await settle();
    assert.deepEqual(reactions, []);
    assert.deepEqual(api.gets, [path, path, path]);
    stopRefresh();
    assert.equal(timers.pending, 0);
    caches.informers.stop();
  });
});
