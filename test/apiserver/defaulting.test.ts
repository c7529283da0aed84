import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CoreV1Api, type V1Service } from '@kubernetes/client-node';
import { type ApiServerHandle, startApiServer } from '../../apiserver/server.ts';
import { apiStatus, kubeConfigFor } from '../support/kube-client.ts';

/** Service defaulting as kube-apiserver does it, seen through @kubernetes/client-node. */

const svc = (name: string, spec: V1Service['spec']): V1Service => ({ metadata: { name }, spec });
const inV4Cidr = (ip: string) => {
  const [a, b] = ip.split('.').map(Number);
  return a === 10 && b! >= 96 && b! <= 111; // 10.96.0.0/12
};

describe('single-stack IPv4 cluster', () => {
  let server: ApiServerHandle;
  let core: CoreV1Api;
  /** Creates Service `name` in default; the server must refuse it (422). Returns the Status. */
  const refused = async (name: string, spec: V1Service['spec']) => {
    const r = await apiStatus(core.createNamespacedService({ namespace: 'default', body: svc(name, spec) }));
    assert.equal(r.code, 422, `Service ${name} refused`);
    return r.body;
  };
  before(async () => {
    server = await startApiServer();
    core = kubeConfigFor(server.kubeconfigText).makeApiClient(CoreV1Api);
  });
  after(() => server.stop());

  test('a LoadBalancer Service gets clusterIP(s), families, policies and unique node ports', async () => {
    const a = await core.createNamespacedService({
      namespace: 'default',
      body: svc('lb-a', {
        type: 'LoadBalancer',
        ports: [
          { name: 'http', port: 80 },
          { name: 'dns', port: 53, protocol: 'UDP' },
        ],
      }),
    });
    const b = await core.createNamespacedService({
      namespace: 'default',
      body: svc('lb-b', { type: 'LoadBalancer', ports: [{ port: 443 }] }),
    });
    for (const s of [a, b]) {
      const spec = s.spec!;
      assert.ok(inV4Cidr(spec.clusterIP!), spec.clusterIP);
      assert.deepEqual(spec.clusterIPs, [spec.clusterIP]);
      assert.deepEqual(spec.ipFamilies, ['IPv4']);
      assert.equal(spec.ipFamilyPolicy, 'SingleStack');
      assert.equal(spec.externalTrafficPolicy, 'Cluster');
      assert.equal(spec.internalTrafficPolicy, 'Cluster');
      assert.equal(spec.sessionAffinity, 'None');
      assert.equal(spec.allocateLoadBalancerNodePorts, true);
      assert.equal(spec.healthCheckNodePort, undefined);
    }
    assert.notEqual(a.spec!.clusterIP, b.spec!.clusterIP);
    assert.deepEqual(
      a.spec!.ports!.map((p) => [p.protocol, p.targetPort]),
      [
        ['TCP', 80],
        ['UDP', 53],
      ],
    );
    const nodePorts = [...a.spec!.ports!, ...b.spec!.ports!].map((p) => p.nodePort!);
    assert.equal(new Set(nodePorts).size, 3);
    for (const p of nodePorts) assert.ok(p >= 30000 && p <= 32767, String(p));
  });

  test('ETP Local gets a healthCheckNodePort; ClusterIP gets no node ports; updates keep allocations', async () => {
    const local = await core.createNamespacedService({
      namespace: 'default',
      body: svc('local', { type: 'LoadBalancer', externalTrafficPolicy: 'Local', ports: [{ port: 80 }] }),
    });
    const hc = local.spec!.healthCheckNodePort!;
    assert.ok(hc >= 30000 && hc <= 32767 && hc !== local.spec!.ports![0]!.nodePort);
    const plain = await core.createNamespacedService({
      namespace: 'default',
      body: svc('plain', { ports: [{ port: 80 }] }),
    });
    assert.equal(plain.spec!.type, 'ClusterIP');
    assert.equal(plain.spec!.ports![0]!.nodePort, undefined);
    assert.equal(plain.spec!.externalTrafficPolicy, undefined);
    // A PUT that omits the allocated values keeps them (patchAllocatedValues in kube-apiserver).
    const { clusterIP, clusterIPs, ...rest } = local.spec!;
    const updated = await core.replaceNamespacedService({
      name: 'local',
      namespace: 'default',
      body: { ...local, spec: { ...rest, ports: [{ port: 80 }] } },
    });
    assert.equal(updated.spec!.clusterIP, clusterIP);
    assert.deepEqual(updated.spec!.clusterIPs, clusterIPs);
    assert.equal(updated.spec!.ports![0]!.nodePort, local.spec!.ports![0]!.nodePort);
    assert.equal(updated.spec!.healthCheckNodePort, hc);
  });

  test('what the real server rejects: RequireDualStack here, a taken clusterIP or nodePort, bad ports', async () => {
    const dual = await refused('dual', { ipFamilyPolicy: 'RequireDualStack', ports: [{ port: 80 }] });
    assert.equal(dual.details.causes[0].field, 'spec.ipFamilyPolicy');
    const taken = (await core.readNamespacedService({ name: 'plain', namespace: 'default' })).spec!
      .clusterIP!;
    const clash = await refused('clash', { clusterIP: taken, ports: [{ port: 80 }] });
    assert.match(clash.message, /provided IP is already allocated/);
    const usedPort = (await core.readNamespacedService({ name: 'local', namespace: 'default' })).spec!
      .ports![0]!.nodePort!;
    const portClash = await refused('port-clash', {
      type: 'NodePort',
      ports: [{ port: 80, nodePort: usedPort }],
    });
    assert.equal(portClash.details.causes[0].field, 'spec.ports[0].nodePort');
    const badPort = await refused('bad-port', { ports: [{ port: 70000 }] });
    assert.equal(badPort.details.causes[0].field, 'spec.ports[0].port');
    const badIp = await refused('bad-ip', { externalIPs: ['192.0.2.300'], ports: [{ port: 80 }] });
    assert.equal(badIp.details.causes[0].field, 'spec.externalIPs[0]');
    const badStatus = await apiStatus(
      core.replaceNamespacedServiceStatus({
        name: 'plain',
        namespace: 'default',
        body: {
          metadata: { name: 'plain' },
          status: { loadBalancer: { ingress: [{ ip: '198.51.100.1' }, { ip: 'nope' }] } },
        },
      }),
    );
    assert.equal(badStatus.code, 422);
    assert.match(
      badStatus.body.message,
      /status\.loadBalancer\.ingress\[1\]\.ip: Invalid value: "nope": must be a valid IP address/,
    );
    const classOnClusterIp = await refused('cls', {
      loadBalancerClass: 'metalbeacon.io/lb',
      ports: [{ port: 80 }],
    });
    assert.equal(classOnClusterIp.details.causes[0].field, 'spec.loadBalancerClass');
    await core.createNamespacedService({
      namespace: 'default',
      body: svc('cls-lb', {
        type: 'LoadBalancer',
        loadBalancerClass: 'metalbeacon.io/lb',
        ports: [{ port: 80 }],
      }),
    });
    /** A JSON patch that replaces one field of a Service in `default`. */
    const replaceField = (name: string, path: string, value: string) =>
      core.patchNamespacedService({ name, namespace: 'default', body: [{ op: 'replace', path, value }] });
    const changed = await apiStatus(replaceField('cls-lb', '/spec/loadBalancerClass', 'other.io/lb'));
    assert.equal(changed.code, 422);
    const toClusterIp = await replaceField('cls-lb', '/spec/type', 'ClusterIP');
    assert.equal(toClusterIp.spec?.loadBalancerClass, undefined, 'dropped with the type');
    assert.equal(toClusterIp.spec?.ports?.[0]?.nodePort, undefined);
    const immutable = await apiStatus(replaceField('plain', '/spec/clusterIP', '10.96.9.9'));
    assert.equal(immutable.code, 422);
  });
});

describe('dual-stack cluster', () => {
  let server: ApiServerHandle;
  let core: CoreV1Api;
  before(async () => {
    server = await startApiServer({ dualStack: true });
    core = kubeConfigFor(server.kubeconfigText).makeApiClient(CoreV1Api);
  });
  after(() => server.stop());

  test('SingleStack by default; PreferDualStack and RequireDualStack get both families; IPv6-only on request', async () => {
    const single = await core.createNamespacedService({
      namespace: 'default',
      body: svc('single', { type: 'LoadBalancer', ports: [{ port: 80 }] }),
    });
    assert.deepEqual(single.spec!.ipFamilies, ['IPv4']);
    for (const policy of ['PreferDualStack', 'RequireDualStack']) {
      const s = await core.createNamespacedService({
        namespace: 'default',
        body: svc(policy.toLowerCase(), {
          type: 'LoadBalancer',
          ipFamilyPolicy: policy,
          ports: [{ port: 80 }],
        }),
      });
      assert.deepEqual(s.spec!.ipFamilies, ['IPv4', 'IPv6']);
      assert.equal(s.spec!.clusterIPs!.length, 2);
      assert.ok(inV4Cidr(s.spec!.clusterIPs![0]!));
      assert.match(s.spec!.clusterIPs![1]!, /^fd00:10:96::/);
    }
    const v6 = await core.createNamespacedService({
      namespace: 'default',
      body: svc('v6', { type: 'LoadBalancer', ipFamilies: ['IPv6'], ports: [{ port: 80 }] }),
    });
    assert.deepEqual(v6.spec!.ipFamilies, ['IPv6']);
    assert.equal(v6.spec!.ipFamilyPolicy, 'SingleStack');
    assert.match(v6.spec!.clusterIP!, /^fd00:10:96::/);
    const v6first = await core.createNamespacedService({
      namespace: 'default',
      body: svc('v6-first', {
        ipFamilyPolicy: 'PreferDualStack',
        ipFamilies: ['IPv6'],
        ports: [{ port: 80 }],
      }),
    });
    assert.deepEqual(v6first.spec!.ipFamilies, ['IPv6', 'IPv4']);
  });
});

describe('IPv6-primary dual-stack cluster', () => {
  let server: ApiServerHandle;
  let core: CoreV1Api;
  before(async () => {
    server = await startApiServer({
      families: ['IPv6', 'IPv4'],
      apply: [new URL('../../config/crd/', import.meta.url).pathname],
    });
    core = kubeConfigFor(server.kubeconfigText).makeApiClient(CoreV1Api);
  });
  after(() => server.stop());

  test('the primary family is IPv6; PreferDualStack adds IPv4 second; the apply option loaded the CRDs', async () => {
    const single = await core.createNamespacedService({
      namespace: 'default',
      body: svc('single', { ports: [{ port: 80 }] }),
    });
    assert.deepEqual(single.spec!.ipFamilies, ['IPv6']);
    assert.match(single.spec!.clusterIP!, /^fd00:10:96::/);
    const dual = await core.createNamespacedService({
      namespace: 'default',
      body: svc('dual', { ipFamilyPolicy: 'PreferDualStack', ports: [{ port: 80 }] }),
    });
    assert.deepEqual(dual.spec!.ipFamilies, ['IPv6', 'IPv4']);
    assert.ok(inV4Cidr(dual.spec!.clusterIPs![1]!));
    const crds = await fetch(`${server.url}/apis/metalbeacon.io/v1beta1`);
    assert.equal(crds.status, 200);
  });
});
