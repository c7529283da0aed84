import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  labelKeyProblem,
  matchesAnySelector,
  matchesSelector,
  selectorKey,
  validateSelector,
} from './selectors.ts';
import type { ConfigError } from './types.ts';

const ref = { kind: 'IPAddressPool', namespace: 'metalbeacon-system', name: 'p' };

describe('matchesSelector', () => {
  const labels = { app: 'web', tier: 'front', 'example.com/zone': 'a' };
  const table: [string, Parameters<typeof matchesSelector>[0], boolean][] = [
    ['empty selector matches everything', {}, true],
    ['matchLabels equal', { matchLabels: { app: 'web' } }, true],
    ['matchLabels differ', { matchLabels: { app: 'db' } }, false],
    ['matchLabels missing key', { matchLabels: { team: 'x' } }, false],
    ['In hit', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['back', 'front'] }] }, true],
    ['In miss', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['back'] }] }, false],
    ['In on absent key', { matchExpressions: [{ key: 'nope', operator: 'In', values: ['x'] }] }, false],
    ['NotIn hit', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['front'] }] }, false],
    [
      'NotIn on absent key matches',
      { matchExpressions: [{ key: 'nope', operator: 'NotIn', values: ['x'] }] },
      true,
    ],
    ['Exists', { matchExpressions: [{ key: 'example.com/zone', operator: 'Exists' }] }, true],
    ['Exists absent', { matchExpressions: [{ key: 'nope', operator: 'Exists' }] }, false],
    ['DoesNotExist absent', { matchExpressions: [{ key: 'nope', operator: 'DoesNotExist' }] }, true],
    ['DoesNotExist present', { matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, false],
    [
      'labels AND expressions',
      { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['back'] }] },
      false,
    ],
  ];
  for (const [name, selector, expected] of table) {
    it(name, () => assert.equal(matchesSelector(selector, labels), expected));
  }

  it('treats missing labels as no labels', () => {
    assert.equal(
      matchesSelector({ matchExpressions: [{ key: 'a', operator: 'DoesNotExist' }] }, undefined),
      true,
    );
    assert.equal(matchesSelector({ matchLabels: { a: 'b' } }, undefined), false);
  });

  it('a list of selectors is OR, and an empty list matches everything', () => {
    assert.equal(matchesAnySelector([], {}), true);
    assert.equal(
      matchesAnySelector([{ matchLabels: { a: '1' } }, { matchLabels: { b: '2' } }], { b: '2' }),
      true,
    );
    assert.equal(matchesAnySelector([{ matchLabels: { a: '1' } }], { b: '2' }), false);
  });
});

describe('validateSelector', () => {
  it('reports each problem with its field path', () => {
    const errors: ConfigError[] = [];
    const result = validateSelector(
      {
        matchLabels: { ok: 'yes', 'bad/': 'x', k: 'bad value' },
        matchExpressions: [
          { key: 'a', operator: 'Has' },
          { key: 'b', operator: 'NotIn', values: [] },
        ],
      },
      ref,
      'spec.sel',
      errors,
    );
    assert.equal(result, undefined);
    assert.deepEqual(
      errors.map((e) => e.field),
      [
        'spec.sel.matchLabels[bad/]',
        'spec.sel.matchLabels[k]',
        'spec.sel.matchExpressions[0].operator',
        'spec.sel.matchExpressions[1].values',
      ],
    );
  });

  it('accepts prefixed keys and empty values', () => {
    const errors: ConfigError[] = [];
    assert.deepEqual(validateSelector({ matchLabels: { 'kubernetes.io/hostname': '' } }, ref, 's', errors), {
      matchLabels: { 'kubernetes.io/hostname': '' },
    });
    assert.deepEqual(errors, []);
    assert.equal(labelKeyProblem('node-role.kubernetes.io/control-plane'), undefined);
    assert.match(labelKeyProblem('Upper.Case/x') ?? '', /invalid prefix/);
  });

  it('selectorKey ignores the order of labels, expressions and values', () => {
    assert.equal(
      selectorKey({
        matchLabels: { a: '1', b: '2' },
        matchExpressions: [{ key: 'x', operator: 'In', values: ['2', '1'] }],
      }),
      selectorKey({
        matchLabels: { b: '2', a: '1' },
        matchExpressions: [{ key: 'x', operator: 'In', values: ['1', '2'] }],
      }),
    );
    assert.notEqual(selectorKey({ matchLabels: { a: '1' } }), selectorKey({ matchLabels: { a: '2' } }));
  });
});
