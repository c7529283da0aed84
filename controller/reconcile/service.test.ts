import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Allocator } from '../allocator/allocator.ts';
import { makePool } from '../allocator/test-helpers.ts';
import {
  isOurClass,
  type ReconcileContext,
  reconcileService,
  requestedIps,
  restoreOrder,
  restoreService,
  type ServiceObject,
  serviceFacts,
} from './service.ts';

type Spec = NonNullable<ServiceObject['spec']>;

function svc(
  name: string,
  spec: Partial<Spec> = {},
  options: { annotations?: Record<string, string>; ingress?: string[]; namespace?: string } = {},
): ServiceObject {
  return {
    metadata: { name, namespace: options.namespace ?? 'default', annotations: options.annotations ?? {} },
    spec: {
      type: 'LoadBalancer',
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      ports: [{ protocol: 'TCP', port: 80 }],
      ...spec,
    },
    status: { loadBalancer: { ingress: (options.ingress ?? []).map((ip) => ({ ip })) } },
  };
}

function context(allocator: Allocator, extra: Partial<ReconcileContext> = {}): ReconcileContext {
  return { allocator, lbClass: undefined, namespaceLabels: () => ({}), previousFailure: undefined, ...extra };
}

const pools = () => [makePool('web', ['198.51.100.0/30']), makePool('v6', ['2001:db8:100::/126'])];

describe('reconcileService', () => {
  it('allocates, asks for status + annotation, and emits IPAllocated once', () => {
    const a = new Allocator(pools());
    const r = reconcileService(context(a), 'default/a', svc('a'));
    assert.deepEqual(r.desired, { ingress: ['198.51.100.0'], poolAnnotation: 'web' });
    assert.deepEqual(
      r.events.map((e) => [e.type, e.reason, e.message]),
      [['Normal', 'IPAllocated', 'Assigned IP 198.51.100.0 from pool web']],
    );
    assert.equal(r.action, 'done');
    // With the status written, the next reconcile wants no write and says nothing.
    const written = svc(
      'a',
      {},
      { ingress: ['198.51.100.0'], annotations: { 'metalbeacon.io/ip-allocated-from-pool': 'web' } },
    );
    const again = reconcileService(context(a), 'default/a', written);
    assert.deepEqual(again.desired, { ingress: undefined, poolAnnotation: undefined });
    assert.deepEqual(again.events, []);
  });

  it('after a failed status write the retry announces the held IP; an IP never published is cleared silently', () => {
    const a = new Allocator(pools());
    const first = reconcileService(context(a), 'default/a', svc('a'));
    assert.deepEqual(first.desired.ingress, ['198.51.100.0']);
    // The write met a 409: the status is still empty, the allocator holds .0. Nobody was told yet.
    const retry = reconcileService(context(a), 'default/a', svc('a'));
    assert.deepEqual(retry.desired, { ingress: ['198.51.100.0'], poolAnnotation: 'web' });
    assert.deepEqual(
      retry.events.map((e) => [e.reason, e.message]),
      [['IPAllocated', 'Assigned IP 198.51.100.0 from pool web']],
    );
    // Meanwhile the user asked for .2: only that is news.
    const pinned = svc('a', {}, { annotations: { 'metalbeacon.io/loadBalancerIPs': '198.51.100.2' } });
    const changed = reconcileService(context(a), 'default/a', pinned);
    assert.deepEqual(changed.desired.ingress, ['198.51.100.2']);
    assert.deepEqual(
      changed.events.map((e) => [e.reason, e.message]),
      [['IPAllocated', 'Assigned IP 198.51.100.2 from pool web']],
    );
  });

  it('restores the status IP after a restart, with no event', () => {
    const a = new Allocator(pools());
    const r = reconcileService(context(a), 'default/a', svc('a', {}, { ingress: ['198.51.100.2'] }));
    assert.deepEqual(r.desired, { ingress: undefined, poolAnnotation: 'web' });
    assert.deepEqual(r.events, []);
    assert.deepEqual(a.holdersOf({ family: 'IPv4', value: 3325256706n }), ['default/a']);
  });

  it('deletion and a type change away from LoadBalancer release the IP and requeue all', () => {
    const a = new Allocator(pools());
    reconcileService(context(a), 'default/a', svc('a'));
    const gone = reconcileService(context(a), 'default/a', undefined);
    assert.equal(gone.action, 'requeueAll');
    assert.equal(a.lookup('default/a'), undefined);
    reconcileService(context(a), 'default/b', svc('b'));
    const cluster = svc(
      'b',
      { type: 'ClusterIP' },
      {
        ingress: ['198.51.100.1'],
        annotations: { 'metalbeacon.io/ip-allocated-from-pool': 'web' },
      },
    );
    const r = reconcileService(context(a), 'default/b', cluster);
    assert.equal(r.action, 'requeueAll');
    assert.deepEqual(r.desired, { ingress: [], poolAnnotation: null });
    assert.equal(a.lookup('default/b'), undefined);
    // A ClusterIP Service we never touched is left alone.
    assert.deepEqual(reconcileService(context(a), 'default/c', svc('c', { type: 'ClusterIP' })).desired, {
      ingress: undefined,
      poolAnnotation: undefined,
    });
  });

  it('filters by loadBalancerClass: no flag = no class only; flag = that class only', () => {
    assert.equal(isOurClass(svc('a'), undefined), true);
    assert.equal(isOurClass(svc('a', { loadBalancerClass: 'other' }), undefined), false);
    assert.equal(isOurClass(svc('a', { loadBalancerClass: 'mine' }), 'mine'), true);
    assert.equal(isOurClass(svc('a'), 'mine'), false);
    const a = new Allocator(pools());
    const r = reconcileService(context(a), 'default/x', svc('x', { loadBalancerClass: 'other' }));
    assert.deepEqual(r.desired, { ingress: undefined, poolAnnotation: undefined });
    assert.equal(a.size, 0);
    const mine = reconcileService(
      context(a, { lbClass: 'mine' }),
      'default/y',
      svc('y', { loadBalancerClass: 'mine' }),
    );
    assert.deepEqual(mine.desired.ingress, ['198.51.100.0']);
  });

  it('AllocationFailed lists each pool tried and why; reported once until it changes', () => {
    const a = new Allocator([
      makePool('full', ['198.51.100.0/32']),
      makePool('team', ['198.51.100.4/30'], { serviceAllocation: { namespaces: ['team'] } }),
    ]);
    reconcileService(context(a), 'default/first', svc('first'));
    const r = reconcileService(context(a), 'default/second', svc('second'));
    assert.equal(r.events.length, 1);
    assert.equal(r.events[0]?.reason, 'AllocationFailed');
    assert.equal(r.events[0]?.type, 'Warning');
    assert.match(r.events[0]?.message ?? '', /pool team: NamespaceNotAllowed: namespace default/);
    assert.match(r.events[0]?.message ?? '', /pool full: Exhausted/);
    assert.deepEqual(
      r.failures.map((f) => f.reason),
      ['NamespaceNotAllowed', 'Exhausted'],
    );
    const retry = reconcileService(
      context(a, { previousFailure: r.failureFingerprint }),
      'default/second',
      svc('second'),
    );
    assert.deepEqual(retry.events, []);
    assert.equal(retry.failureFingerprint, r.failureFingerprint);
  });

  it('requested IP errors: LoadBalancerFailed, nothing assigned, others unaffected', () => {
    const a = new Allocator(pools());
    reconcileService(
      context(a),
      'default/owner',
      svc('owner', {}, { annotations: { 'metalbeacon.io/loadBalancerIPs': '198.51.100.1' } }),
    );
    const cases: [ServiceObject, RegExp][] = [
      [
        svc(
          'both',
          { loadBalancerIP: '198.51.100.2' },
          { annotations: { 'metalbeacon.io/loadBalancerIPs': '198.51.100.2' } },
        ),
        /both annotation/,
      ],
      [
        svc('junk', {}, { annotations: { 'metalbeacon.io/loadBalancerIPs': '198.51.100.x' } }),
        /"198\.51\.100\.x" is not an IP/,
      ],
      [
        svc('outside', { loadBalancerIP: '203.0.113.9' }),
        /NotInAnyPool: 203\.0\.113\.9 is in no IPAddressPool/,
      ],
      [
        svc('taken', { loadBalancerIP: '198.51.100.1' }),
        /Taken: 198\.51\.100\.1 is already used by default\/owner/,
      ],
      [
        svc('family', {}, { annotations: { 'metalbeacon.io/loadBalancerIPs': '2001:db8:100::1' } }),
        /WrongFamily/,
      ],
    ];
    for (const [service, pattern] of cases) {
      const r = reconcileService(context(a), `default/${service.metadata?.name}`, service);
      assert.deepEqual(
        r.events.map((e) => e.reason),
        ['LoadBalancerFailed'],
        service.metadata?.name,
      );
      assert.match(r.events[0]?.message ?? '', pattern);
      assert.equal(a.lookup(`default/${service.metadata?.name}`), undefined);
    }
    assert.deepEqual(a.lookup('default/owner')?.pool, 'web');
  });

  it('a Service whose status IP is not allowed any more gets ClearAssignment and a new IP', () => {
    const a = new Allocator(pools());
    const r = reconcileService(
      context(a),
      'default/a',
      svc('a', {}, { ingress: ['198.51.100.3'], annotations: { 'metalbeacon.io/address-pool': 'nope' } }),
    );
    assert.deepEqual(
      r.events.map((e) => e.reason),
      ['ClearAssignment', 'AllocationFailed'],
    );
    assert.deepEqual(r.desired, { ingress: [], poolAnnotation: undefined });
    assert.equal(r.action, 'requeueAll');
  });

  it('PreferDualStack without a dual pool keeps one family and says so once', () => {
    const a = new Allocator(pools());
    const s = svc('d', { ipFamilies: ['IPv6', 'IPv4'], ipFamilyPolicy: 'PreferDualStack' });
    const r = reconcileService(context(a), 'default/d', s);
    assert.deepEqual(r.desired.ingress, ['2001:db8:100::']);
    assert.deepEqual(
      r.events.map((e) => e.reason),
      ['IPAllocated'],
    );
    const written = svc(
      'd',
      { ipFamilies: ['IPv6', 'IPv4'], ipFamilyPolicy: 'PreferDualStack' },
      { ingress: ['2001:db8:100::'] },
    );
    const second = reconcileService(context(a), 'default/d', written);
    assert.deepEqual(
      second.events.map((e) => e.reason),
      ['AdditionalAssignFailed'],
    );
    assert.match(second.events[0]?.message ?? '', /pool v6: FamilyMissing/);
    const again = reconcileService(
      context(a, { previousFailure: second.failureFingerprint }),
      'default/d',
      written,
    );
    assert.deepEqual(
      again.events.map((e) => e.reason),
      [],
    );
  });
});

describe('service facts and helpers', () => {
  it('derives families, policy, sharing and the backend key', () => {
    const local = svc(
      'a',
      {
        externalTrafficPolicy: 'Local',
        selector: { b: '2', a: '1' },
        ipFamilies: undefined,
        clusterIPs: ['2001:db8::1'],
        ipFamilyPolicy: undefined,
        ports: [{ port: 53 }],
      },
      { annotations: { 'metalbeacon.io/allow-shared-ip': 'dns', 'metalbeacon.io/address-pool': 'p' } },
    );
    const facts = serviceFacts(local, { team: 'x' });
    assert.deepEqual(facts, {
      key: 'default/a',
      namespace: 'default',
      namespaceLabels: { team: 'x' },
      labels: {},
      families: ['IPv6'],
      familyPolicy: 'SingleStack',
      pool: 'p',
      sharingKey: 'dns',
      backendKey: 'local:a=1,b=2',
      ports: [{ protocol: 'TCP', port: 53 }],
    });
    assert.equal(serviceFacts(svc('c'), {}).backendKey, '');
  });

  it('parses requested IPs from the annotation (trimmed, comma-separated) or spec.loadBalancerIP', () => {
    assert.deepEqual(requestedIps(svc('a')), { ok: true, ips: undefined });
    const both = requestedIps(
      svc('a', {}, { annotations: { 'metalbeacon.io/loadBalancerIPs': ' 198.51.100.1 , 2001:db8:100::1' } }),
    );
    assert.ok(both.ok);
    assert.deepEqual(
      both.ips?.map((i) => i.family),
      ['IPv4', 'IPv6'],
    );
    const spec = requestedIps(svc('a', { loadBalancerIP: '198.51.100.7' }));
    assert.ok(spec.ok && spec.ips?.length === 1);
  });

  it('restore order puts Services with status IPs first', () => {
    const order = restoreOrder([
      svc('z'),
      svc('b', {}, { ingress: ['198.51.100.1'] }),
      svc('a'),
      svc('y', {}, { ingress: ['198.51.100.2'] }),
    ]);
    assert.deepEqual(
      order.map((s) => s.metadata?.name),
      ['b', 'y', 'a', 'z'],
    );
  });
});

describe('restoreOrder and shared IPs', () => {
  it('a status holder that lost its sharing key while no controller ran yields the IP to the one that kept it', () => {
    const shared = (name: string, key: string | undefined, port: number) =>
      svc(
        name,
        { ports: [{ protocol: 'TCP', port }] },
        { ingress: ['198.51.100.1'], annotations: key ? { 'metalbeacon.io/allow-shared-ip': key } : {} },
      );
    // "a" sorts first by name, but it is the one whose key was removed.
    const services = [shared('b', 'dns', 53), shared('a', undefined, 54)];
    assert.deepEqual(
      restoreOrder(services).map((s) => s.metadata?.name),
      ['b', 'a'],
    );
    const a = new Allocator(pools());
    const ctx = context(a);
    const restored = restoreOrder(services).map((s) => restoreService(ctx, s));
    assert.deepEqual(restored, [true, false]);
    assert.deepEqual(a.holdersOf({ family: 'IPv4', value: 3325256705n }), ['default/b']);
  });
});

describe('restoreService', () => {
  it('claims only status IPs that are still allowed, never allocates', () => {
    const a = new Allocator(pools());
    const ctx = context(a);
    assert.equal(restoreService(ctx, svc('a', {}, { ingress: ['198.51.100.2'] })), true);
    assert.equal(restoreService(ctx, svc('dup', {}, { ingress: ['198.51.100.2'] })), false);
    assert.equal(restoreService(ctx, svc('outside', {}, { ingress: ['203.0.113.1'] })), false);
    assert.equal(restoreService(ctx, svc('none')), false);
    assert.equal(
      restoreService(ctx, svc('other', { loadBalancerClass: 'x' }, { ingress: ['198.51.100.3'] })),
      false,
    );
    assert.deepEqual(
      [...a.assignments()].map(([k]) => k),
      ['default/a'],
    );
  });
});
