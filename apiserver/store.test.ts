import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { builtinTypes } from './builtins.ts';
import { ApiError } from './errors.ts';
import { ObjectStore } from './store.ts';
import type { KubeObject } from './types.ts';

const configMaps = builtinTypes().find((t) => t.resource === 'configmaps')!;

type Op =
  | { kind: 'create'; name: string; label: string }
  | { kind: 'update'; name: string; label: string; data: string }
  | { kind: 'delete'; name: string }
  | { kind: 'finalize'; name: string };

const name = fc.constantFrom('a', 'b', 'c', 'd');
const label = fc.constantFrom('x', 'y');
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('create' as const), name, label }),
  fc.record({ kind: fc.constant('update' as const), name, label, data: fc.constantFrom('1', '2') }),
  fc.record({ kind: fc.constant('delete' as const), name }),
  fc.record({ kind: fc.constant('finalize' as const), name }),
);

/** Applies an op the way a client would; API errors (404, 409) are part of the game. */
function apply(store: ObjectStore, o: Op): void {
  try {
    if (o.kind === 'create') {
      store.create(configMaps, 'ns', {
        metadata: { name: o.name, labels: { l: o.label }, ...(o.label === 'y' ? { finalizers: ['f'] } : {}) },
      });
    } else if (o.kind === 'update') {
      const cur = store.get(configMaps, 'ns', o.name);
      store.update(configMaps, 'ns', o.name, {
        ...cur,
        metadata: { ...cur.metadata, labels: { l: o.label } },
        data: { v: o.data },
      });
    } else if (o.kind === 'delete') store.delete(configMaps, 'ns', o.name);
    else {
      const cur = store.get(configMaps, 'ns', o.name);
      store.update(configMaps, 'ns', o.name, { ...cur, metadata: { ...cur.metadata, finalizers: [] } });
    }
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
  }
}

/** name → resourceVersion of the objects a filter selects. */
function stateOf(objects: Iterable<KubeObject>, matches: (o: KubeObject) => boolean): Map<string, string> {
  const m = new Map<string, string>();
  for (const o of objects) if (matches(o)) m.set(o.metadata.name!, o.metadata.resourceVersion!);
  return m;
}

test('a watcher that lists at version V and watches from V always ends with the stored state (any selector)', () => {
  fc.assert(
    fc.property(
      fc.array(op, { maxLength: 30 }),
      fc.array(op, { maxLength: 30 }),
      fc.boolean(),
      (before, after, selective) => {
        const store = new ObjectStore({ historyLimit: 1000 });
        for (const o of before) apply(store, o);
        const matches = selective ? (o: KubeObject) => o.metadata.labels?.l === 'x' : () => true;
        const listed = store.list(configMaps, 'ns', matches, undefined, undefined, () => false);
        const cache = stateOf(listed.items, () => true);
        let last = Number(listed.resourceVersion);
        store.hub.subscribe(
          {
            key: '/configmaps',
            namespace: 'ns',
            matches,
            send: (type, obj) => {
              const rv = Number(obj.metadata.resourceVersion);
              assert.ok(rv > last, 'versions only move forward');
              last = rv;
              if (type === 'DELETED') {
                assert.ok(cache.has(obj.metadata.name!), `DELETED ${obj.metadata.name} never seen`);
                cache.delete(obj.metadata.name!);
              } else {
                assert.equal(
                  cache.has(obj.metadata.name!),
                  type === 'MODIFIED',
                  `${type} ${obj.metadata.name}`,
                );
                cache.set(obj.metadata.name!, obj.metadata.resourceVersion!);
              }
            },
            cut: () => {},
          },
          Number(listed.resourceVersion),
        );
        for (const o of after) apply(store, o);
        assert.deepEqual(cache, stateOf(store.scan(configMaps), matches));
      },
    ),
    { numRuns: 300 },
  );
});

test('resuming from any kept version replays exactly the later changes; older versions are 410', () => {
  fc.assert(
    fc.property(
      fc.array(op, { minLength: 1, maxLength: 40 }),
      fc.nat(),
      fc.integer({ min: 1, max: 20 }),
      (ops, pick, limit) => {
        const store = new ObjectStore({ historyLimit: limit });
        // Every ConfigMap event from `from` on, its resourceVersion pushed to `into`.
        const follow = (into: number[], from: number) =>
          store.hub.subscribe(
            {
              key: '/configmaps',
              namespace: undefined,
              matches: () => true,
              send: (_t, o) => into.push(Number(o.metadata.resourceVersion)),
              cut: () => {},
            },
            from,
          );
        const seen: number[] = [];
        follow(seen, 0);
        for (const o of ops) apply(store, o);
        const from = seen.length === 0 ? 0 : seen[pick % seen.length]!;
        const kept = seen.slice(-limit);
        const oldestResumable = kept.length === seen.length ? 0 : (seen[seen.length - limit - 1] ?? 0);
        const replay: number[] = [];
        const subscribe = () => follow(replay, from);
        if (from < oldestResumable) {
          assert.throws(subscribe, (e: unknown) => e instanceof ApiError && e.code === 410);
        } else {
          subscribe();
          assert.deepEqual(
            replay,
            seen.filter((rv) => rv > from),
          );
        }
      },
    ),
    { numRuns: 300 },
  );
});
