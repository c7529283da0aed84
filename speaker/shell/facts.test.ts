import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { expectConfig } from '../../shared/config/test-helpers.ts';
import { endpointNodes, handlesService, nodeAddresses, nodeFacts, planInput, serviceFacts } from './facts.ts';

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

describe('planInput', () => {
  const config = expectConfig({});
  const lb = (namespace: string, name: string, ip: string, loadBalancerClass?: string) => ({
    metadata: { namespace, name },
    spec: { type: 'LoadBalancer', ...(loadBalancerClass ? { loadBalancerClass } : {}) },
    status: { loadBalancer: { ingress: [{ ip }] } },
  });
  const sliceOf = (namespace: string, service: string | undefined, nodeName: string) => ({
    metadata: { namespace, ...(service ? { labels: { 'kubernetes.io/service-name': service } } : {}) },
    endpoints: [{ nodeName, conditions: { ready: true } }],
  });

  it('takes the Services of our class sorted by key, each with the endpoints of its own slices', () => {
    const input = planInput({
      nodeName: 'node-a',
      config,
      lbClass: undefined,
      services: [
        lb('prod', 'web', '198.51.100.2'),
        lb('dev', 'web', '198.51.100.1'),
        lb('dev', 'other-class', '198.51.100.3', 'example.com/lb'),
        { metadata: { namespace: 'dev', name: 'cluster-ip' }, spec: { type: 'ClusterIP' } },
      ],
      slices: [
        sliceOf('prod', 'web', 'node-b'),
        sliceOf('dev', 'web', 'node-a'),
        sliceOf('prod', 'web', 'node-c'),
        sliceOf('dev', undefined, 'node-z'),
      ],
      nodes: [{ metadata: { name: 'node-a' } }],
      alive: ['node-a', 'node-b'],
    });
    assert.deepEqual(
      input.services.map((s) => [s.key, s.ips, s.endpointNodes]),
      [
        ['dev/web', ['198.51.100.1'], ['node-a']],
        ['prod/web', ['198.51.100.2'], ['node-b', 'node-c']],
      ],
    );
    assert.equal(input.config, config);
    assert.equal(input.nodeName, 'node-a');
    assert.deepEqual(input.nodes, [{ name: 'node-a', labels: {}, networkUnavailable: false }]);
    assert.deepEqual([...input.aliveNodes], ['node-a', 'node-b']);
  });
});

describe('nodeAddresses', () => {
  it("is the Node's internal and external IPs, then the IPs of the speaker Pods on this node", () => {
    const node = {
      status: {
        addresses: [
          { type: 'Hostname', address: 'node-a' },
          { type: 'InternalIP', address: '192.0.2.11' },
          { type: 'ExternalIP', address: '2001:db8:0:1::11' },
        ],
      },
    };
    const pods = [
      { spec: { nodeName: 'node-a' }, status: { podIPs: [{ ip: '192.0.2.12' }] } },
      { spec: { nodeName: 'node-b' }, status: { podIPs: [{ ip: '192.0.2.13' }] } },
    ];
    assert.deepEqual(nodeAddresses('node-a', node, pods), ['192.0.2.11', '2001:db8:0:1::11', '192.0.2.12']);
    assert.deepEqual(nodeAddresses('node-a', undefined, []), []);
  });
});
