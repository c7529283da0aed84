import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from './errors.ts';
import { compileFilter, parseLabelSelector } from './selectors.ts';
import type { KubeObject } from './types.ts';

const obj = (labels: Record<string, string>, extra: Record<string, unknown> = {}): KubeObject => ({
  metadata: { name: 'n', namespace: 'ns', labels },
  ...extra,
});

test('label selector syntax of k8s.io/apimachinery', () => {
  assert.deepEqual(parseLabelSelector('a=b, c==d,e!=f,g in (x, y),h notin (z),i,!j'), [
    { key: 'a', op: 'eq', value: 'b' },
    { key: 'c', op: 'eq', value: 'd' },
    { key: 'e', op: 'neq', value: 'f' },
    { key: 'g', op: 'in', values: ['x', 'y'] },
    { key: 'h', op: 'notin', values: ['z'] },
    { key: 'i', op: 'exists' },
    { key: 'j', op: 'notexists' },
  ]);
  assert.deepEqual(parseLabelSelector('app.kubernetes.io/name=x'), [
    { key: 'app.kubernetes.io/name', op: 'eq', value: 'x' },
  ]);
  assert.throws(
    () => parseLabelSelector('a b'),
    (e: unknown) => e instanceof ApiError && e.code === 400,
  );
});

test('matching: != and notin match objects without the label, like the real server', () => {
  const f = (sel: string) => compileFilter(sel, undefined, {}, 'Thing');
  assert.equal(f('a!=1')(obj({})), true);
  assert.equal(f('a notin (1)')(obj({})), true);
  assert.equal(f('a in (1)')(obj({})), false);
  assert.equal(f('a=1,b')(obj({ a: '1', b: '' })), true);
  assert.equal(f('a=1,!b')(obj({ a: '1', b: '' })), false);
});

test('field selectors: declared keys only; a missing field is the empty string', () => {
  const getters = {
    'spec.nodeName': (o: KubeObject) => (o.spec as { nodeName?: string } | undefined)?.nodeName,
  };
  const f = (sel: string) => compileFilter(undefined, sel, getters, 'Pod');
  assert.equal(f('metadata.name=n,metadata.namespace=ns')(obj({})), true);
  assert.equal(f('spec.nodeName=')(obj({})), true);
  assert.equal(f('spec.nodeName!=a')(obj({}, { spec: { nodeName: 'b' } })), true);
  assert.throws(
    () => f('spec.other=1'),
    (e: unknown) =>
      e instanceof ApiError && e.code === 400 && /field label not supported: spec.other/.test(e.message),
  );
});
