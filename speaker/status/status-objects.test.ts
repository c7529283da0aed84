import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIp } from '../../shared/net/ip.ts';
import type { NodePlan } from '../announce/types.ts';
import { desiredStatusObjects, nodeSelector, sameStatus, sessionStateObject } from './status-objects.ts';

describe('sessionStateObject', () => {
  it('is <node>.<peer> with node and peer labels and everything in status, RFC 3339 without milliseconds', () => {
    const object = sessionStateObject('node-a', {
      peer: 'router',
      peerAddress: '192.0.2.1',
      state: 'Established',
      sinceMs: Date.UTC(2026, 0, 2, 3, 4, 5, 678),
      prefixesAdvertised: 3,
      lastError: '',
    });
    assert.deepEqual(object, {
      kind: 'BGPSessionState',
      plural: 'bgpsessionstates',
      name: 'node-a.router',
      labels: { 'metalbeacon.io/node': 'node-a', 'metalbeacon.io/peer': 'router' },
      status: {
        node: 'node-a',
        peer: 'router',
        peerAddress: '192.0.2.1',
        state: 'Established',
        since: '2026-01-02T03:04:05Z',
        prefixesAdvertised: 3,
        lastError: '',
      },
    });
  });

  it('holds the BFD session of a peer that runs one: state, since (once it changed), diagnostic', () => {
    const report = {
      peer: 'router',
      peerAddress: '192.0.2.1',
      state: 'Idle' as const,
      sinceMs: Date.UTC(2026, 0, 2, 3, 4, 5),
      prefixesAdvertised: 0,
      lastError: 'session reset (bfd-down)',
    };
    const down = {
      state: 'Down',
      sinceMs: Date.UTC(2026, 0, 2, 3, 4, 5, 900),
      diagName: 'ControlDetectionTimeExpired',
    };
    assert.deepEqual(sessionStateObject('node-a', { ...report, bfd: down }).status.bfd, {
      state: 'Down',
      since: '2026-01-02T03:04:05Z',
      diagnostic: 'ControlDetectionTimeExpired',
    });
    assert.deepEqual(
      sessionStateObject('node-a', {
        ...report,
        bfd: { state: 'Down', sinceMs: 0, diagName: 'NoDiagnostic' },
      }).status.bfd,
      { state: 'Down', diagnostic: 'NoDiagnostic' },
      'not changed since it started: no since',
    );
    assert.equal('bfd' in sessionStateObject('node-a', report).status, false, 'no BFDProfile, no bfd');
  });
});

describe('desiredStatusObjects', () => {
  it('gives one L2 and one BGP object per Service with the planner names and labels', () => {
    const plan: NodePlan = {
      l2: [{ ip: '198.51.100.1', interfaces: ['eth0'], services: ['default/web'], advertisements: ['l2'] }],
      peers: [
        {
          peer: { name: 'router', peerAddress: parseIp('192.0.2.1')! } as never,
          routes: [
            {
              prefix: '198.51.100.2/32',
              localPref: undefined,
              communities: [],
              services: ['default/api'],
              advertisements: ['bgp'],
            },
          ],
        },
      ],
      skipped: [],
    };
    const objects = desiredStatusObjects(plan, 'node-a');
    assert.deepEqual(
      objects.map((o) => [o.kind, o.plural, o.labels['metalbeacon.io/service-name'], o.status]),
      [
        [
          'ServiceL2Status',
          'servicel2statuses',
          'web',
          { node: 'node-a', serviceName: 'web', serviceNamespace: 'default', interfaces: [{ name: 'eth0' }] },
        ],
        [
          'ServiceBGPStatus',
          'servicebgpstatuses',
          'api',
          { node: 'node-a', serviceName: 'api', serviceNamespace: 'default', peers: ['router'] },
        ],
      ],
    );
    assert.ok(objects.every((o) => o.labels['metalbeacon.io/node'] === 'node-a'));
    assert.equal(nodeSelector('node-a'), 'metalbeacon.io/node=node-a');
  });
});

describe('sameStatus', () => {
  it('compares field by field, order of keys aside', () => {
    assert.equal(sameStatus({ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 }), true);
    assert.equal(sameStatus({ a: 1 }, { a: 1, b: 2 }), false);
    assert.equal(sameStatus({ a: 1, b: 2 }, { a: 1 }), false);
    assert.equal(sameStatus(undefined, {}), false);
  });
});
