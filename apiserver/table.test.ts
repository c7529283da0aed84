import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evalJsonPath, humanDuration } from './table.ts';

test('humanDuration prints ages as kubectl users know them', () => {
  const s = 1000;
  const cases: [number, string][] = [
    [-5 * s, '<invalid>'],
    [0, '0s'],
    [119 * s, '119s'],
    [125 * s, '2m5s'],
    [600 * s, '10m'],
    [179 * 60 * s, '179m'],
    [3 * 3600 * s + 5 * 60 * s, '3h5m'],
    [10 * 3600 * s, '10h'],
    [50 * 3600 * s, '2d2h'],
    [30 * 24 * 3600 * s, '30d'],
    [800 * 24 * 3600 * s, '2y70d'],
    [3000 * 24 * 3600 * s, '8y'],
  ];
  for (const [ms, text] of cases) assert.equal(humanDuration(ms), text, String(ms));
});

test('printer-column JSONPath: fields, indices, wildcards, missing', () => {
  const o = { spec: { a: [{ ip: 'x' }, { ip: 'y' }], m: { 'k.io/n': 1 } } };
  assert.deepEqual(evalJsonPath(o, '.spec.a[0].ip'), ['x']);
  assert.deepEqual(evalJsonPath(o, '.spec.a[*].ip'), ['x', 'y']);
  assert.deepEqual(evalJsonPath(o, '.spec.a[-1].ip'), ['y']);
  assert.deepEqual(evalJsonPath(o, ".spec.m['k.io/n']"), [1]);
  assert.deepEqual(evalJsonPath(o, '.spec.none'), []);
});
