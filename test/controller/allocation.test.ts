import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { ControllerHandle } from '../../controller/shell/controller.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import {
  type Bed,
  createNamespace,
  createPool,
  createService,
  eventsOf,
  getPool,
  ipsOf,
  startBed,
  withBed,
} from './harness.ts';

const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** MetalLB's assignment checklist, against the embedded API server through the real client. */
describe('controller against the API server: assignment checklist', () => {
  let bed: Bed;
  let controller: ControllerHandle;

  before(async () => {
    bed = await startBed({ dualStack: true });
    await createPool(bed, 'tiny', {
      addresses: ['198.51.100.0/31'],
      serviceAllocation: { namespaces: ['tiny'] },
    });
    await createPool(bed, 'team', {
      addresses: ['198.51.100.16/30'],
      serviceAllocation: { priority: 1, namespaceSelectors: [{ matchLabels: { team: 'blue' } }] },
    });
    await createPool(bed, 'web', {
      addresses: ['198.51.100.32/30'],
      serviceAllocation: { priority: 2, serviceSelectors: [{ matchLabels: { app: 'web' } }] },
    });
    await createPool(bed, 'general', { addresses: ['198.51.100.64/27', '2001:db8:100::/124'] });
    await createPool(bed, 'manual', { addresses: ['198.51.100.128/28'], autoAssign: false });
    await createPool(bed, 'v6only', { addresses: ['2001:db8:100::80/124'], autoAssign: false });
    for (const ns of ['tiny', 'blue', 'other'])
      await createNamespace(bed, ns, ns === 'blue' ? { team: 'blue' } : {});
    controller = await bed.startController();
  });

  after(() => bed.close());

  it('an IP freed by deletion or type change goes to the pending Service', async () => {
    const tiny = { namespace: 'tiny', annotations: { 'metalbeacon.io/address-pool': 'tiny' } };
    for (const name of ['a', 'b', 'c']) await createService(bed, name, tiny);
    const ips = await waitFor('a and b to get IPs', async () => {
      const [a, b] = [await ipsOf(bed, 'a', 'tiny'), await ipsOf(bed, 'b', 'tiny')];
      return a.length && b.length ? [a[0], b[0]] : undefined;
    });
    assert.deepEqual(ips.sort(), ['198.51.100.0', '198.51.100.1']);
    const failed = await waitFor('AllocationFailed on c', async () =>
      (await eventsOf(bed, 'tiny')).find((e) => e.object === 'c' && e.reason === 'AllocationFailed'),
    );
    assert.match(failed.message, /pool tiny: Exhausted/);
    await createService(bed, 'outsider', { namespace: 'other', annotations: tiny.annotations });
    const refused = await waitFor('AllocationFailed on outsider', async () =>
      (await eventsOf(bed, 'other')).find((e) => e.object === 'outsider' && e.reason === 'AllocationFailed'),
    );
    assert.match(refused.message, /pool tiny: NamespaceNotAllowed: namespace other is not allowed/);
    assert.deepEqual(await ipsOf(bed, 'c', 'tiny'), []);

    const aIp = (await ipsOf(bed, 'a', 'tiny'))[0];
    await bed.core.deleteNamespacedService({ name: 'a', namespace: 'tiny' });
    assert.deepEqual(
      await waitFor(
        'c to get a’s IP',
        async () => (await ipsOf(bed, 'c', 'tiny')).length > 0 && ipsOf(bed, 'c', 'tiny'),
      ),
      [aIp],
    );

    await createService(bed, 'd', tiny);
    const bIp = (await ipsOf(bed, 'b', 'tiny'))[0];
    await bed.core.patchNamespacedService(
      {
        name: 'b',
        namespace: 'tiny',
        body: { spec: { type: 'ClusterIP', ports: [{ port: 80, protocol: 'TCP' }] } },
      },
      MERGE,
    );
    assert.deepEqual(
      await waitFor(
        'd to get b’s IP',
        async () => (await ipsOf(bed, 'd', 'tiny')).length > 0 && ipsOf(bed, 'd', 'tiny'),
      ),
      [bIp],
    );
    const b = await bed.core.readNamespacedService({ name: 'b', namespace: 'tiny' });
    assert.deepEqual(b.status?.loadBalancer?.ingress ?? [], []);
    assert.equal(b.metadata?.annotations?.['metalbeacon.io/ip-allocated-from-pool'], undefined);
  });

  it('namespace, label and priority pools; the pool is named in the annotation', async () => {
    await createService(bed, 'blue-web', { namespace: 'blue', labels: { app: 'web' } });
    await createService(bed, 'other-web', { namespace: 'other', labels: { app: 'web' } });
    await createService(bed, 'other-plain', { namespace: 'other' });
    await createService(bed, 'pinned', {
      namespace: 'other',
      annotations: { 'metalbeacon.io/address-pool': 'manual' },
    });
    const poolOf = (name: string, ns: string) =>
      waitFor(`${ns}/${name} to get a pool`, async () => {
        const svc = await bed.core.readNamespacedService({ name, namespace: ns });
        return svc.metadata?.annotations?.['metalbeacon.io/ip-allocated-from-pool'];
      });
    assert.equal(await poolOf('blue-web', 'blue'), 'team'); // priority 1 beats web's 2
    assert.equal(await poolOf('other-web', 'other'), 'web');
    assert.equal(await poolOf('other-plain', 'other'), 'general');
    assert.equal(await poolOf('pinned', 'other'), 'manual');
    assert.deepEqual(await ipsOf(bed, 'pinned', 'other'), ['198.51.100.128']);
  });

  it('sharing: accepted with the same key and disjoint ports, refused with reasons', async () => {
    const shared = (key: string) => ({
      'metalbeacon.io/allow-shared-ip': key,
      'metalbeacon.io/loadBalancerIPs': '198.51.100.90',
    });
    // A Service in `other` asking for 198.51.100.90 with sharing key `key`, on one port.
    const sharing = (
      name: string,
      key: string,
      port: number,
      protocol: string,
      spec?: Record<string, unknown>,
    ) =>
      createService(bed, name, {
        namespace: 'other',
        annotations: shared(key),
        ports: [{ port, protocol }],
        ...(spec ? { spec } : {}),
      });
    await sharing('dns-tcp', 'dns', 53, 'TCP');
    await sharing('dns-udp', 'dns', 53, 'UDP');
    await sharing('dns-clash', 'dns', 53, 'TCP');
    await sharing('dns-otherkey', 'web', 8053, 'TCP');
    await sharing('dns-local', 'dns', 5353, 'UDP', { externalTrafficPolicy: 'Local' });
    for (const name of ['dns-tcp', 'dns-udp']) {
      assert.deepEqual(
        await waitFor(
          name,
          async () => (await ipsOf(bed, name, 'other')).length > 0 && ipsOf(bed, name, 'other'),
        ),
        ['198.51.100.90'],
      );
    }
    const failure = (name: string) =>
      waitFor(`${name} refused`, async () =>
        (await eventsOf(bed, 'other')).find((e) => e.object === name && e.reason === 'LoadBalancerFailed'),
      );
    assert.match((await failure('dns-clash')).message, /PortConflict: .*TCP\/53/);
    assert.match((await failure('dns-otherkey')).message, /SharingKeyMismatch/);
    assert.match((await failure('dns-local')).message, /BackendKeyMismatch/);
    for (const name of ['dns-clash', 'dns-otherkey', 'dns-local'])
      assert.deepEqual(await ipsOf(bed, name, 'other'), []);
  });

  it('dual-stack matrix: SingleStack, PreferDualStack, RequireDualStack, ipFamilies order', async () => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['v4-single', { ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv4'] }, /^198\.51\.100\.\d+$/],
      ['v6-single', { ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv6'] }, /^2001:db8:100::[0-9a-f]*$/],
      ['prefer', { ipFamilyPolicy: 'PreferDualStack' }, /^198\.51\.100\.\d+,2001:db8:100::[0-9a-f]*$/],
      [
        'require-v6-first',
        { ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv6', 'IPv4'] },
        /^2001:db8:100::[0-9a-f]*,198\.51\.100\.\d+$/,
      ],
    ];
    for (const [name, spec] of cases) await createService(bed, name, { namespace: 'other', spec });
    for (const [name, , pattern] of cases) {
      const ips = await waitFor(
        name,
        async () => (await ipsOf(bed, name, 'other')).length > 0 && ipsOf(bed, name, 'other'),
      );
      assert.match(ips.join(','), pattern, name);
    }
    await createService(bed, 'require-manual', {
      namespace: 'other',
      spec: { ipFamilyPolicy: 'RequireDualStack' },
      annotations: { 'metalbeacon.io/address-pool': 'manual' },
    });
    const event = await waitFor('require-manual refused', async () =>
      (await eventsOf(bed, 'other')).find(
        (e) => e.object === 'require-manual' && e.reason === 'AllocationFailed',
      ),
    );
    assert.match(event.message, /pool manual: FamilyMissing: the pool has no IPv6 addresses/);
  });

  it('requested IPs outside the pools, taken or of the wrong family: event, others unaffected', async () => {
    const before = await ipsOf(bed, 'other-plain', 'other');
    const cases: [string, Record<string, string>, RegExp][] = [
      [
        'want-outside',
        { 'metalbeacon.io/loadBalancerIPs': '203.0.113.7' },
        /NotInAnyPool: 203\.0\.113\.7 is in no IPAddressPool/,
      ],
      [
        'want-taken',
        { 'metalbeacon.io/loadBalancerIPs': before[0]! },
        /Taken: .* is already used by other\/other-plain/,
      ],
      ['want-v6', { 'metalbeacon.io/loadBalancerIPs': '2001:db8:100::5' }, /WrongFamily/],
    ];
    for (const [name, annotations] of cases)
      await createService(bed, name, {
        namespace: 'other',
        annotations,
        spec: { ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack' },
      });
    await createService(bed, 'want-both', {
      namespace: 'other',
      annotations: { 'metalbeacon.io/loadBalancerIPs': '198.51.100.70' },
      spec: { loadBalancerIP: '198.51.100.70' },
    });
    cases.push([
      'want-both',
      {},
      /both annotation metalbeacon\.io\/loadBalancerIPs and spec\.loadBalancerIP/,
    ]);
    for (const [name, , pattern] of cases) {
      const event = await waitFor(name, async () =>
        (await eventsOf(bed, 'other')).find((e) => e.object === name && e.reason === 'LoadBalancerFailed'),
      );
      assert.match(event.message, pattern, name);
      assert.deepEqual(await ipsOf(bed, name, 'other'), []);
    }
    assert.deepEqual(await ipsOf(bed, 'other-plain', 'other'), before);
  });

  it('pool status shows exact assigned and available counts per family', async () => {
    const status = await waitFor('general pool status', async () => {
      const pool = await getPool(bed, 'general');
      const s = pool.status as Record<string, string> | undefined;
      return s && s.assignedIPv6 !== '0' && s.assignedIPv6 !== undefined ? s : undefined;
    });
    const ips = [...(await bed.core.listServiceForAllNamespaces()).items].flatMap((s) =>
      s.metadata?.annotations?.['metalbeacon.io/ip-allocated-from-pool'] === 'general'
        ? (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '')
        : [],
    );
    const v4 = new Set(ips.filter((ip) => !ip.includes(':'))).size;
    const v6 = new Set(ips.filter((ip) => ip.includes(':'))).size;
    await waitFor('counts to match', async () => {
      const s = (await getPool(bed, 'general')).status as Record<string, string>;
      return (s.assignedIPv4 === String(v4) && s.assignedIPv6 === String(v6)) || undefined;
    });
    const final = (await getPool(bed, 'general')).status as Record<string, string>;
    assert.equal(final.availableIPv4, String(32 - v4));
    assert.equal(final.availableIPv6, String(16 - v6));
    assert.ok(status);
  });

  it('a config error keeps the last good pools, shows a condition and a Warning event', async () => {
    // Overlaps "general": valid for the CRD schema, rejected by the config snapshot.
    await createPool(bed, 'overlap', { addresses: ['198.51.100.64/28'] });
    const condition = await waitFor('ConfigValid=False on overlap', async () => {
      const pool = await getPool(bed, 'overlap');
      const conditions = (pool.status?.conditions ?? []) as {
        type: string;
        status: string;
        message: string;
      }[];
      return conditions.find((c) => c.type === 'ConfigValid' && c.status === 'False');
    });
    assert.match(condition.message, /overlap/i);
    const event = await waitFor('Warning event on the pool', async () =>
      (await eventsOf(bed, 'metalbeacon-system')).find((e) => e.reason === 'ConfigurationError'),
    );
    assert.match(event.message, /last good configuration stays in force/);
    await createService(bed, 'after-error', { namespace: 'other' });
    assert.match(
      (
        await waitFor(
          'allocation still works',
          async () =>
            (await ipsOf(bed, 'after-error', 'other')).length > 0 && ipsOf(bed, 'after-error', 'other'),
        )
      )[0]!,
      /^198\.51\.100\./,
    );
    const gauge = async (g: { get(): Promise<{ values: { value: number }[] }> }) =>
      (await g.get()).values[0]?.value;
    assert.equal(await gauge(controller.metrics.configStale), 1);
    assert.equal(await gauge(controller.metrics.configLoaded), 1);
    await bed.custom.deleteNamespacedCustomObject({
      group: 'metalbeacon.io',
      version: 'v1beta1',
      namespace: 'metalbeacon-system',
      plural: 'ipaddresspools',
      name: 'overlap',
    });
    await waitFor('config no longer stale', async () => (await gauge(controller.metrics.configStale)) === 0);
  });
});

describe('controller against the API server: loadBalancerClass', () => {
  it('with --lb-class only that class is served', async () => {
    await withBed(async (bed) => {
      await createPool(bed, 'p', { addresses: ['198.51.100.0/29'] });
      const controller = await bed.startController({ lbClass: 'example.com/mine', leaderElect: false });
      // Created before `mine`: the one watch stream delivers them first, so once `mine` is served
      // and the controller is idle, it has looked at them.
      await createService(bed, 'theirs', { spec: { loadBalancerClass: 'example.com/theirs' } });
      await createService(bed, 'classless');
      await createService(bed, 'mine', { spec: { loadBalancerClass: 'example.com/mine' } });
      await waitFor('mine', async () => (await ipsOf(bed, 'mine')).length > 0);
      await controller.idle();
      assert.deepEqual(await ipsOf(bed, 'theirs'), []);
      assert.deepEqual(await ipsOf(bed, 'classless'), []);
      assert.deepEqual(
        (await eventsOf(bed)).map((e) => e.object),
        ['mine'],
      );
    });
  });

  it('without --lb-class a Service with a class is left alone, one without is served', async () => {
    await withBed(async (bed) => {
      await createPool(bed, 'p', { addresses: ['198.51.100.0/29'] });
      // Another implementation already served this one, with an IP of its own: we never touch it.
      await createService(bed, 'served-elsewhere', { spec: { loadBalancerClass: 'example.com/other' } });
      await bed.core.patchNamespacedServiceStatus(
        {
          name: 'served-elsewhere',
          namespace: 'default',
          body: { status: { loadBalancer: { ingress: [{ ip: '203.0.113.5' }] } } },
        },
        MERGE,
      );
      const controller = await bed.startController({ leaderElect: false });
      await createService(bed, 'theirs', { spec: { loadBalancerClass: 'example.com/other' } });
      await createService(bed, 'ours');
      const ours = await waitFor(
        'ours served',
        async () => (await ipsOf(bed, 'ours')).length > 0 && ipsOf(bed, 'ours'),
      );
      assert.match(ours[0]!, /^198\.51\.100\.[0-7]$/);
      await controller.idle();
      assert.deepEqual(await ipsOf(bed, 'theirs'), []);
      const elsewhere = await bed.core.readNamespacedService({
        name: 'served-elsewhere',
        namespace: 'default',
      });
      assert.deepEqual(
        (elsewhere.status?.loadBalancer?.ingress ?? []).map((i) => i.ip),
        ['203.0.113.5'],
      );
      for (const name of ['theirs', 'served-elsewhere']) {
        const svc = await bed.core.readNamespacedService({ name, namespace: 'default' });
        assert.equal(svc.metadata?.annotations?.['metalbeacon.io/ip-allocated-from-pool'], undefined, name);
      }
      assert.deepEqual(
        (await eventsOf(bed)).map((e) => [e.object, e.reason]),
        [['ours', 'IPAllocated']],
      );
    });
  });
});
