import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ApiError } from './errors.ts';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch } from './patch.ts';

test('merge patch (RFC 7386 appendix A examples)', () => {
  const cases: [unknown, unknown, unknown][] = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [
      ['a', 'b'],
      ['c', 'd'],
      ['c', 'd'],
    ],
    [{ a: 'b' }, ['c'], ['c']],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  for (const [target, patch, result] of cases) assert.deepEqual(applyMergePatch(target, patch), result);
});

test('merge patch never mutates its inputs', () => {
  fc.assert(
    fc.property(fc.jsonValue(), fc.jsonValue(), (target, patch) => {
      const t = structuredClone(target);
      const p = structuredClone(patch);
      applyMergePatch(target, patch);
      assert.deepEqual(target, t);
      assert.deepEqual(patch, p);
    }),
  );
});

test('JSON patch (RFC 6902): add, remove, replace, move, copy, test, and failures', () => {
  const doc = { a: { b: [1, 2, 3] }, c: 'x' };
  assert.deepEqual(
    applyJsonPatch(doc, [
      { op: 'add', path: '/a/b/1', value: 9 },
      { op: 'add', path: '/a/b/-', value: 4 },
      { op: 'remove', path: '/a/b/0' },
      { op: 'replace', path: '/c', value: 'y' },
      { op: 'copy', from: '/c', path: '/d' },
      { op: 'move', from: '/d', path: '/e~1f' },
      { op: 'test', path: '/a/b', value: [9, 2, 3, 4] },
    ]),
    { a: { b: [9, 2, 3, 4] }, c: 'y', 'e/f': 'y' },
  );
  assert.deepEqual(doc, { a: { b: [1, 2, 3] }, c: 'x' }, 'input untouched');
  const fails = (ops: unknown, code: number) =>
    assert.throws(
      () => applyJsonPatch(doc, ops),
      (e: unknown) => e instanceof ApiError && e.code === code,
    );
  fails([{ op: 'test', path: '/c', value: 'nope' }], 422);
  fails([{ op: 'remove', path: '/missing' }], 422);
  fails([{ op: 'replace', path: '/a/x/y', value: 1 }], 422);
  fails([{ op: 'frobnicate', path: '/c' }], 400);
  fails({ op: 'add' }, 400);
});

test('strategic merge patch: lists merge by key, $patch directives, primitives, atomic lists', () => {
  const svc = {
    metadata: { finalizers: ['a'], labels: { x: '1', y: '2' } },
    spec: {
      ports: [
        { name: 'http', port: 80, protocol: 'TCP' },
        { name: 'https', port: 443, protocol: 'TCP' },
      ],
      selector: { app: 'web', tier: 'front' },
      externalIPs: ['192.0.2.1'],
    },
  };
  const out = applyStrategicMergePatch(
    svc,
    {
      metadata: { finalizers: ['b', 'a'], labels: { y: null, z: '3' } },
      spec: {
        ports: [
          { port: 443, name: 'tls' },
          { port: 80, $patch: 'delete' },
          { name: 'dns', port: 53 },
        ],
        selector: { $patch: 'replace', app: 'api' },
        externalIPs: ['192.0.2.2'],
        '$setElementOrder/ports': [{ port: 443 }, { port: 53 }],
      },
    },
    'Service',
  );
  assert.deepEqual(out, {
    metadata: { finalizers: ['a', 'b'], labels: { x: '1', z: '3' } },
    spec: {
      ports: [
        { name: 'tls', port: 443, protocol: 'TCP' },
        { name: 'dns', port: 53 },
      ],
      selector: { app: 'api' },
      externalIPs: ['192.0.2.2'],
    },
  });
  const containers = applyStrategicMergePatch(
    {
      spec: {
        containers: [
          { name: 'a', image: 'x', ports: [{ containerPort: 80 }] },
          { name: 'b', image: 'y' },
        ],
      },
    },
    { spec: { containers: [{ name: 'a', image: 'z', ports: [{ containerPort: 81 }] }] } },
    'Pod',
  );
  assert.deepEqual(containers, {
    spec: {
      containers: [
        { name: 'a', image: 'z', ports: [{ containerPort: 80 }, { containerPort: 81 }] },
        { name: 'b', image: 'y' },
      ],
    },
  });
  const conditions = applyStrategicMergePatch(
    {
      status: {
        conditions: [
          { type: 'Ready', status: 'False' },
          { type: 'Other', status: 'True' },
        ],
      },
    },
    { status: { conditions: [{ type: 'Ready', status: 'True' }], $retainKeys: ['conditions'] } },
    'Node',
  );
  assert.deepEqual(conditions, {
    status: {
      conditions: [
        { type: 'Ready', status: 'True' },
        { type: 'Other', status: 'True' },
      ],
    },
  });
  assert.deepEqual(
    applyStrategicMergePatch(
      { metadata: { finalizers: ['a', 'b'] } },
      { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } },
      'Service',
    ),
    { metadata: { finalizers: ['b'] } },
  );
  assert.deepEqual(
    applyStrategicMergePatch(
      { spec: { ports: [{ port: 1 }] } },
      { spec: { ports: [{ $patch: 'replace' }, { port: 2 }] } },
      'Service',
    ),
    { spec: { ports: [{ port: 2 }] } },
  );
});

test('strategic merge patch: $setElementOrder orders merged lists, server-only elements follow', () => {
  const out = applyStrategicMergePatch(
    { spec: { ports: [{ port: 1 }, { port: 2 }, { port: 3 }] }, metadata: { finalizers: ['a', 'b', 'c'] } },
    {
      spec: { '$setElementOrder/ports': [{ port: 3 }, { port: 1 }], ports: [{ port: 3, name: 'x' }] },
      metadata: { '$setElementOrder/finalizers': ['c', 'a'] },
    },
    'Service',
  );
  assert.deepEqual(out, {
    spec: { ports: [{ port: 3, name: 'x' }, { port: 1 }, { port: 2 }] },
    metadata: { finalizers: ['c', 'a', 'b'] },
  });
});
