import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1EndpointSlice, V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import type { IPAddressPool, SecretLike } from '../../shared/api/resources.ts';
import { peersFromPods } from '../membership/peers/peers-from-pods.ts';
import { nodeFacts, serviceFacts } from './facts.ts';
import {
  trimConfigResource,
  trimEndpointSlice,
  trimNode,
  trimPasswordSecret,
  trimPod,
  trimService,
  trimStatusObject,
} from './trim.ts';

// Objects as the API server sends them (plain JSON: timestamps are strings).
const managedFields = [{ manager: 'kubectl', operation: 'Update', fieldsV1: { 'f:spec': {} } }];
const identity = { uid: 'u-1', resourceVersion: '42', creationTimestamp: '2024-01-01T00:00:00Z' };

describe('trims', () => {
  it('Service: identity, labels, the pool annotation, type/class/ETP and ingress IPs', () => {
    const service = {
      metadata: {
        name: 'web',
        namespace: 'ns',
        ...identity,
        labels: { app: 'web' },
        annotations: {
          'metalbeacon.io/ip-allocated-from-pool': 'p1',
          'kubectl.kubernetes.io/last-applied-configuration': '{"big":"json"}',
        },
        managedFields,
      },
      spec: {
        type: 'LoadBalancer',
        loadBalancerClass: 'x/y',
        externalTrafficPolicy: 'Local',
        ports: [{ port: 80, protocol: 'TCP' }],
        clusterIP: '10.96.0.10',
        selector: { app: 'web' },
      },
      status: {
        loadBalancer: {
          ingress: [{ ip: '198.51.100.7', ipMode: 'VIP', ports: [] }, { hostname: 'lb.example' }],
        },
      },
    } as unknown as V1Service;
    const trimmed = trimService(service);
    assert.deepEqual(trimmed, {
      metadata: {
        name: 'web',
        namespace: 'ns',
        uid: 'u-1',
        resourceVersion: '42',
        labels: { app: 'web' },
        annotations: { 'metalbeacon.io/ip-allocated-from-pool': 'p1' },
      },
      spec: { type: 'LoadBalancer', loadBalancerClass: 'x/y', externalTrafficPolicy: 'Local' },
      status: { loadBalancer: { ingress: [{ ip: '198.51.100.7' }, {}] } },
    });
    const slice: V1EndpointSlice = {
      metadata: {
        name: 'web-a',
        namespace: 'ns',
        ...identity,
        labels: { 'kubernetes.io/service-name': 'web' },
        annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': '2024-01-01T00:00:00Z' },
      } as never,
      addressType: 'IPv4',
      endpoints: [
        {
          addresses: ['10.244.0.10'],
          nodeName: 'n1',
          zone: 'z',
          targetRef: { kind: 'Pod', name: 'web-1', namespace: 'ns', uid: 'p-1' },
          conditions: { ready: false, serving: true, terminating: true },
        },
        { addresses: ['10.244.0.11'], nodeName: 'n2' },
      ],
      ports: [{ port: 8080, protocol: 'TCP' }],
    };
    assert.deepEqual(trimEndpointSlice(slice), {
      metadata: {
        name: 'web-a',
        namespace: 'ns',
        uid: 'u-1',
        resourceVersion: '42',
        labels: { 'kubernetes.io/service-name': 'web' },
      },
      endpoints: [
        { nodeName: 'n1', conditions: { ready: false, serving: true, terminating: true } },
        { nodeName: 'n2' },
      ],
    });
    // The facts are the same from the trimmed objects.
    assert.deepEqual(serviceFacts(trimmed, [trimEndpointSlice(slice)]), serviceFacts(service, [slice]));
  });

  it('Node: labels, condition types and statuses, addresses', () => {
    const node = {
      metadata: { name: 'n1', ...identity, labels: { zone: 'a' }, managedFields },
      spec: { podCIDR: '10.244.0.0/24', providerID: 'x' },
      status: {
        conditions: [
          {
            type: 'NetworkUnavailable',
            status: 'True',
            reason: 'NoRoute',
            lastHeartbeatTime: '2024-01-01T00:00:00Z',
          },
        ],
        addresses: [{ type: 'InternalIP', address: '192.0.2.11' }],
        images: [{ names: ['registry/image:tag'], sizeBytes: 1 }],
        nodeInfo: { kubeletVersion: 'v1.31.0' },
        capacity: { cpu: '4' },
      },
    } as unknown as V1Node;
    const trimmed = trimNode(node);
    assert.deepEqual(trimmed, {
      metadata: { name: 'n1', uid: 'u-1', resourceVersion: '42', labels: { zone: 'a' } },
      status: {
        conditions: [{ type: 'NetworkUnavailable', status: 'True' }],
        addresses: [{ type: 'InternalIP', address: '192.0.2.11' }],
      },
    });
    assert.deepEqual(nodeFacts(trimmed), nodeFacts(node));
  });

  it('Pod: node name, phase and IPs', () => {
    const pod = {
      metadata: { name: 'speaker-x', namespace: 'mb', ...identity, labels: { app: 's' }, managedFields },
      spec: { nodeName: 'n1', hostNetwork: true, containers: [{ name: 'speaker', image: 'metalbeacon' }] },
      status: {
        phase: 'Running',
        podIP: '192.0.2.11',
        podIPs: [{ ip: '192.0.2.11' }, { ip: '2001:db8::11' }],
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: [{ name: 'speaker', ready: true }],
      },
    } as unknown as V1Pod;
    const trimmed = trimPod(pod);
    assert.deepEqual(trimmed, {
      metadata: {
        name: 'speaker-x',
        namespace: 'mb',
        uid: 'u-1',
        resourceVersion: '42',
        labels: { app: 's' },
      },
      spec: { nodeName: 'n1' },
      status: {
        phase: 'Running',
        podIP: '192.0.2.11',
        podIPs: [{ ip: '192.0.2.11' }, { ip: '2001:db8::11' }],
      },
    });
    assert.deepEqual(peersFromPods([trimmed]), peersFromPods([pod]));
    assert.deepEqual(trimPod({ metadata: { name: 'p' } }), { metadata: { name: 'p' }, spec: {}, status: {} });
  });

  it('password Secret: type and the password key, not the annotations (kubectl keeps a copy of the data there)', () => {
    const secret = {
      metadata: {
        name: 'bgp',
        namespace: 'mb',
        ...identity,
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"data":{"password":"..."}}' },
        managedFields,
      },
      type: 'kubernetes.io/basic-auth',
      data: { username: 'cm91dGVy', password: 'c2VjcmV0' },
    } as unknown as SecretLike;
    assert.deepEqual(trimPasswordSecret(secret, 'mb'), {
      metadata: { name: 'bgp', namespace: 'mb' },
      type: 'kubernetes.io/basic-auth',
      data: { password: 'c2VjcmV0' },
    });
  });

  it('configuration CRs keep metadata and spec, not the status; own status objects keep the status', () => {
    const pool = {
      apiVersion: 'metalbeacon.io/v1beta1',
      kind: 'IPAddressPool',
      metadata: { name: 'p', namespace: 'mb', ...identity, generation: 3, labels: { a: 'b' }, managedFields },
      spec: { addresses: ['198.51.100.0/24'] },
      status: { assignedIPv4: 10 },
    } as unknown as IPAddressPool;
    assert.deepEqual(trimConfigResource(pool), {
      apiVersion: 'metalbeacon.io/v1beta1',
      kind: 'IPAddressPool',
      metadata: { name: 'p', namespace: 'mb', uid: 'u-1', resourceVersion: '42', labels: { a: 'b' } },
      spec: { addresses: ['198.51.100.0/24'] },
    });
    const own = {
      apiVersion: 'metalbeacon.io/v1beta1',
      kind: 'ServiceL2Status',
      metadata: {
        name: 'l2-1',
        namespace: 'mb',
        ...identity,
        labels: { 'metalbeacon.io/node': 'n1' },
        managedFields,
      },
      status: { node: 'n1', serviceName: 'web' },
    };
    assert.deepEqual(trimStatusObject(own), {
      apiVersion: 'metalbeacon.io/v1beta1',
      kind: 'ServiceL2Status',
      metadata: {
        name: 'l2-1',
        namespace: 'mb',
        uid: 'u-1',
        resourceVersion: '42',
        labels: { 'metalbeacon.io/node': 'n1' },
      },
      status: { node: 'n1', serviceName: 'web' },
    });
  });
});
