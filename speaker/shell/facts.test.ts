import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { endpointNodes, handlesService, nodeFacts, serviceFacts } from './facts.ts';

const slice = (endpoints: NonNullable<V1EndpointSlice['endpoints']>): V1EndpointSlice => ({
  addressType: 'IPv4',
  endpoints,
});

describe('endpointNodes', () => {
  it('counts ready endpoints, and serving ones only while terminating', () => {
    const nodes = endpointNodes([
      slice([
        { addresses: ['10.0.0.1'], nodeName: 'ready', conditions: { ready: true } },
        { addresses: ['10.0.0.2'], nodeName: 'unknown-counts-as-ready', conditions: {} },
        { addresses: ['10.0.0.3'], nodeName: 'not-ready', conditions: { ready: false, serving: false } },
        {
          addresses: ['10.0.0.4'],
          nodeName: 'draining',
          conditions: { ready: false, serving: true, terminating: true },
        },
        // Serving but not ready and not terminating: failing its readiness probe.
        { addresses: ['10.0.0.5'], nodeName: 'unready-serving', conditions: { ready: false, serving: true } },
        { addresses: ['10.0.0.6'], conditions: { ready: true } },
      ]),
      slice([{ addresses: ['10.0.1.1'], nodeName: 'another', conditions: { ready: true } }]),
    ]);
    assert.deepEqual(nodes, ['another', 'draining', 'ready', 'unknown-counts-as-ready']);
  });

  it('is empty without slices or endpoints', () => {
    assert.deepEqual(endpointNodes([]), []);
    assert.deepEqual(endpointNodes([slice([])]), []);
  });
});

describe('handlesService', () => {
  const svc = (spec: V1Service['spec']): V1Service => ({ spec });
  it('takes LoadBalancer Services of our class only', () => {
    assert.equal(handlesService(svc({ type: 'LoadBalancer' }), undefined), true);
    assert.equal(handlesService(svc({ type: 'LoadBalancer', loadBalancerClass: 'x/y' }), undefined), false);
    assert.equal(handlesService(svc({ type: 'LoadBalancer', loadBalancerClass: 'x/y' }), 'x/y'), true);
    assert.equal(handlesService(svc({ type: 'LoadBalancer' }), 'x/y'), false);
    assert.equal(handlesService(svc({ type: 'ClusterIP' }), undefined), false);
  });
});

describe('serviceFacts', () => {
  it('keeps only IP ingress entries, canonical and once; reads pool annotation and ETP', () => {
    const facts = serviceFacts(
      {
        metadata: {
          namespace: 'ns',
          name: 'web',
          labels: { app: 'web' },
          annotations: { 'metalbeacon.io/ip-allocated-from-pool': 'p1' },
        },
        spec: { type: 'LoadBalancer', externalTrafficPolicy: 'Local' },
        status: {
          loadBalancer: {
            ingress: [
              { ip: '198.51.100.7' },
              { ip: '2001:DB8:100:0:0:0:0:1' },
              { hostname: 'lb.example.com' },
              { ip: 'not-an-ip' },
              { ip: '198.51.100.7' },
            ],
          },
        },
      } as V1Service,
      [slice([{ addresses: ['10.0.0.1'], nodeName: 'n1', conditions: { ready: true } }])],
    );
    assert.deepEqual(facts, {
      key: 'ns/web',
      namespace: 'ns',
      name: 'web',
      labels: { app: 'web' },
      ips: ['198.51.100.7', '2001:db8:100::1'],
      pool: 'p1',
      externalTrafficPolicy: 'Local',
      endpointNodes: ['n1'],
    });
  });

  it('defaults to Cluster and no IPs', () => {
    const facts = serviceFacts(
      { metadata: { namespace: 'a', name: 'b' }, spec: { type: 'LoadBalancer' } },
      [],
    );
    assert.equal(facts.externalTrafficPolicy, 'Cluster');
    assert.deepEqual(facts.ips, []);
    assert.equal(facts.pool, undefined);
  });
});

describe('nodeFacts', () => {
  it('reads NetworkUnavailable=True only', () => {
    const node = (status: string) => ({
      metadata: { name: 'n', labels: { a: 'b' } },
      status: { conditions: [{ type: 'NetworkUnavailable', status }] },
    });
    assert.deepEqual(nodeFacts(node('True')), { name: 'n', labels: { a: 'b' }, networkUnavailable: true });
    assert.equal(nodeFacts(node('False')).networkUnavailable, false);
    assert.equal(nodeFacts({ metadata: { name: 'm' } }).networkUnavailable, false);
  });
});
