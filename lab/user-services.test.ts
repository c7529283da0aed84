import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../apiserver/types.ts';
import { unservedServices } from './user-services.ts';

const svc = (name: string, spec: Record<string, unknown>, namespace = 'default'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace },
  spec,
});
const slice = (service: string, namespace = 'default'): KubeObject => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name: `${service}-x`, namespace, labels: { 'kubernetes.io/service-name': service } },
});

test('LoadBalancer Services targeting the ingress port and without slices get endpoints, sorted', () => {
  const lb = (ports: unknown[]) => ({ type: 'LoadBalancer', ports });
  const services = [
    svc('web', lb([{ port: 80, targetPort: 80, protocol: 'TCP' }])),
    svc('alt', lb([{ port: 8080, targetPort: 80 }]), 'team'),
    svc('implicit', { ...lb([{ port: 80 }]), ipFamilies: ['IPv6'] }),
    svc('served', lb([{ port: 80 }])),
    svc('elsewhere', lb([{ port: 443, targetPort: 8443 }])),
    svc('udp', lb([{ port: 80, protocol: 'UDP' }])),
    svc('named', lb([{ port: 80, targetPort: 'http' }])),
    svc('cip', { type: 'ClusterIP', ports: [{ port: 80 }] }),
    svc('served', lb([{ port: 80 }]), 'other'),
  ];
  assert.deepEqual(unservedServices(services, [slice('served')]), [
    { namespace: 'default', name: 'implicit', families: ['IPv6'] },
    { namespace: 'default', name: 'web', families: ['IPv4'] },
    { namespace: 'other', name: 'served', families: ['IPv4'] },
    { namespace: 'team', name: 'alt', families: ['IPv4'] },
  ]);
  // Applying the slices makes the next check a no-op.
  const after = unservedServices(services, [
    slice('served'),
    slice('web'),
    slice('implicit'),
    slice('served', 'other'),
    slice('alt', 'team'),
  ]);
  assert.deepEqual(after, []);
});
