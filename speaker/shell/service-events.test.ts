import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EventSpec, EventTarget } from '../../shared/daemon/event-recorder.ts';
import { ServiceEvents } from './service-events.ts';
import { l2At, peerPlan, planOf, route } from './test-helpers.ts';

/** Records what would reach the EventRecorder, one line per call. */
function recorded(gone: string[] = []) {
  const calls: string[] = [];
  const events = new ServiceEvents({
    nodeName: 'node-a',
    service: (namespace, name) =>
      gone.includes(`${namespace}/${name}`) ? undefined : { metadata: { uid: `uid-${name}` } },
    recorder: {
      post: (target: EventTarget, event: EventSpec, topic = '') =>
        calls.push(
          `post ${target.namespace}/${target.name} ${target.uid} ${event.type} ${event.reason} [${topic}] ${event.message}`,
        ),
      forget: (target: Pick<EventTarget, 'kind' | 'namespace' | 'name'>, reason: string, topic = '') =>
        calls.push(`forget ${target.kind} ${target.namespace}/${target.name} ${reason} [${topic}]`),
    },
  });
  return { events, calls };
}

describe('ServiceEvents', () => {
  it('posts nodeAssigned per Service with its uid, and forgets a Service the node stopped announcing', () => {
    const { events, calls } = recorded();
    events.assigned(
      planOf(
        [l2At('198.51.100.1', ['default/web'])],
        [peerPlan('r1', [route('198.51.100.2/32', ['prod/api'])])],
      ),
    );
    events.assigned(planOf([l2At('198.51.100.1', ['default/web'])]));
    assert.deepEqual(calls, [
      'post default/web uid-web Normal nodeAssigned [] announcing from node node-a: layer2 198.51.100.1',
      'post prod/api uid-api Normal nodeAssigned [] announcing from node node-a: bgp 198.51.100.2/32 to r1',
      'post default/web uid-web Normal nodeAssigned [] announcing from node node-a: layer2 198.51.100.1',
      'forget Service prod/api nodeAssigned []',
    ]);
  });

  it('posts announceFailed per cause as a topic; a cause that cleared is forgotten, the others stay', () => {
    const { events, calls } = recorded();
    const ip = { service: 'default/web', topic: 'layer2 198.51.100.1', message: 'layer2 on node-a: EPERM' };
    const bgp = { service: 'default/web', topic: 'bgp r1', message: 'bgp to r1 on node-a: no router ID' };
    events.failed([ip, bgp]);
    events.failed([bgp]);
    const posted = (f: typeof ip) =>
      `post default/web uid-web Warning announceFailed [${f.topic}] ${f.message}`;
    assert.deepEqual(calls, [
      posted(ip),
      posted(bgp),
      posted(bgp),
      `forget Service default/web announceFailed [${ip.topic}]`,
    ]);
  });

  it('posts nothing on a Service the cache no longer has', () => {
    const { events, calls } = recorded(['default/web']);
    events.assigned(planOf([l2At('198.51.100.1', ['default/web'])]));
    events.failed([{ service: 'default/web', topic: 'bgp r1', message: 'down' }]);
    assert.deepEqual(calls, []);
  });
});
