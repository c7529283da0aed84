import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { statusLabelValue } from '../announce/statuses.ts';
import type { StatusObject } from './status-objects.ts';
import {
  goneNodes,
  orphans,
  prefixCountsMoved,
  sessionStateWrites,
  speakerNodes,
  statusPlurals,
  statusWrites,
} from './status-sync.ts';
import { sessionReport as report } from './test-helpers.ts';

const object = (plural: string, name: string): StatusObject => ({
  kind: plural === 'servicel2statuses' ? 'ServiceL2Status' : 'ServiceBGPStatus',
  plural,
  name,
  labels: {},
  status: { node: 'node-a' },
});
const named = (name: string, node?: string) => ({
  metadata: { name, ...(node === undefined ? {} : { labels: { 'metalbeacon.io/node': node } }) },
});

describe('statusWrites', () => {
  it('deletes what is written and not wanted, puts every wanted object of its kind only', () => {
    const desired = [
      object('servicel2statuses', 'l2-a'),
      object('servicebgpstatuses', 'bgp-a'),
      object('servicel2statuses', 'l2-b'),
    ];
    const writes = statusWrites(desired, 'servicel2statuses', [
      named('l2-old'),
      named('l2-a'),
      named('l2-x'),
    ]);
    assert.deepEqual(writes.delete, ['l2-old', 'l2-x']);
    assert.deepEqual(
      writes.put.map((o) => o.name),
      ['l2-a', 'l2-b'],
    );
  });

  it('with nothing desired deletes everything written (an isolated or empty plan elsewhere)', () => {
    assert.deepEqual(statusWrites([], 'servicebgpstatuses', [named('bgp-a')]), {
      delete: ['bgp-a'],
      put: [],
    });
  });
});

describe('sessionStateWrites', () => {
  it('puts new and changed sessions only, with what was written before, and deletes sessions gone', () => {
    const first = sessionStateWrites('node-a', [report('r1'), report('r2')], new Map());
    assert.deepEqual(first.delete, []);
    assert.deepEqual(
      first.put.map((p) => [p.object.name, p.previous]),
      [
        ['node-a.r1', undefined],
        ['node-a.r2', undefined],
      ],
    );
    const written = new Map(first.put.map((p) => [p.object.name, { ...p.object.status }]));
    written.set('node-a.gone', { stale: true });
    const next = sessionStateWrites('node-a', [report('r1'), report('r2', 7)], written);
    assert.deepEqual(next.delete, ['node-a.gone']);
    assert.deepEqual(
      next.put.map((p) => [
        p.object.name,
        p.object.status.prefixesAdvertised,
        p.previous?.prefixesAdvertised,
      ]),
      [['node-a.r2', 7, 1]],
    );
  });

  it('a state listed at start (stale) is rewritten even when the session looks the same', () => {
    const writes = sessionStateWrites('node-a', [report('r1')], new Map([['node-a.r1', { stale: true }]]));
    assert.deepEqual(
      writes.put.map((p) => p.object.name),
      ['node-a.r1'],
    );
  });
});

describe('prefixCountsMoved', () => {
  it('is true only when a written session advertises another number of prefixes', () => {
    const written = new Map([['node-a.r1', { prefixesAdvertised: 1 }]]);
    assert.equal(prefixCountsMoved('node-a', [report('r1', 1)], written), false);
    assert.equal(prefixCountsMoved('node-a', [report('r2', 5)], written), false, 'never written: not a move');
    assert.equal(prefixCountsMoved('node-a', [report('r2', 5), report('r1', 2)], written), true);
  });
});

describe('garbage collection rules', () => {
  it('speakerNodes always holds this node', () => {
    assert.deepEqual([...speakerNodes([{ spec: { nodeName: 'node-b' } }], 'node-a')].sort(), [
      'node-a',
      'node-b',
    ]);
  });

  it('orphans are objects labelled with a node that has no speaker, long names compared hashed', () => {
    const long = `node-${'x'.repeat(80)}`;
    const objects = [
      named('a', 'node-a'),
      named('b', 'node-b'),
      named('c', statusLabelValue(long)),
      named('d', statusLabelValue(`${long}y`)),
      named('unlabelled'),
    ];
    assert.deepEqual(orphans(objects, new Set(['node-a', long])), ['b', 'd']);
  });

  it('goneNodes lists the nodes seen before and not now', () => {
    assert.deepEqual(goneNodes(new Set(['a', 'b', 'c']), new Set(['b', 'd'])), ['a', 'c']);
  });
});

describe('statusPlurals', () => {
  it('names BGPSessionState only while its CRD is installed', () => {
    assert.deepEqual(statusPlurals(true), ['servicel2statuses', 'servicebgpstatuses', 'bgpsessionstates']);
    assert.deepEqual(statusPlurals(false), ['servicel2statuses', 'servicebgpstatuses']);
  });
});
