import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from './types.ts';
import { type Change, WatchHub, type WatchListener } from './watch-hub.ts';

const change = (resourceVersion: number): Change => ({
  type: 'ADDED',
  key: 'core/services',
  resourceVersion,
  object: {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: `s${resourceVersion}`, namespace: 'default' },
  } as KubeObject,
});

function listener(): WatchListener & { seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    key: 'core/services',
    namespace: undefined,
    matches: () => true,
    send: (_type, obj) => seen.push(obj.metadata.name ?? ''),
    cut: () => {},
  };
}

test('a compaction after the history limit dropped changes keeps every later change', () => {
  const hub = new WatchHub(5);
  for (let rv = 1; rv <= 8; rv++) hub.publish(change(rv)); // the limit dropped 1-3
  hub.compact(6);
  hub.publish(change(9));
  const from6 = listener();
  hub.subscribe(from6, 6);
  assert.deepEqual(from6.seen, ['s7', 's8', 's9']);
  assert.throws(() => hub.subscribe(listener(), 5), { code: 410 });
});

test('compaction beyond everything kept leaves an empty history that still takes new changes', () => {
  const hub = new WatchHub(3);
  for (let rv = 1; rv <= 4; rv++) hub.publish(change(rv));
  hub.compact(10);
  hub.publish(change(11));
  const from10 = listener();
  hub.subscribe(from10, 10);
  assert.deepEqual(from10.seen, ['s11']);
});
