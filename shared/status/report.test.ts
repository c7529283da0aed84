import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { StatusLabels } from '../api/names.ts';
import { buildStatusReport, ProblemKinds, type StatusInput } from './report.ts';
import {
  bgpStatus,
  emptyCluster,
  failureEvent,
  l2Status,
  lbService,
  pool,
  sampleCluster,
  session,
} from './test-helpers.ts';

const empty: StatusInput = emptyCluster();

describe('buildStatusReport: Services', () => {
  const report = buildStatusReport(sampleCluster());
  const byName = (name: string) => report.services.find((s) => s.name === name);

  it('lists LoadBalancer Services of our class only, sorted by namespace/name, and counts the others', () => {
    assert.deepEqual(
      report.services.map((s) => `${s.namespace}/${s.name}`),
      ['default/db', 'default/orphan', 'default/web', 'shop/api'],
    );
    assert.equal(report.otherClassServices, 1);
    const theirs = buildStatusReport({ ...sampleCluster(), lbClass: 'example.com/other' });
    assert.deepEqual(
      theirs.services.map((s) => s.name),
      ['theirs'],
    );
    assert.equal(theirs.otherClassServices, 4);
    assert.equal(theirs.lbClass, 'example.com/other');
  });

  it('an L2 Service: IP, pool from the annotation, node and interfaces', () => {
    assert.deepEqual(byName('web'), {
      namespace: 'default',
      name: 'web',
      state: 'announced',
      ips: ['198.51.100.10'],
      pool: 'lan',
      protocol: 'L2',
      announcements: [{ protocol: 'L2', node: 'node-a', interfaces: ['eth0'] }],
      pendingReason: null,
    });
  });

  it('a BGP Service: IPs in ingress order, nodes sorted, each with its peers and their session state', () => {
    assert.deepEqual(byName('api'), {
      namespace: 'shop',
      name: 'api',
      state: 'announced',
      ips: ['198.51.100.20', '2001:db8:100::20'],
      pool: 'lan',
      protocol: 'BGP',
      announcements: [
        { protocol: 'BGP', node: 'node-a', peers: [{ name: 'r1', state: 'Established' }] },
        {
          protocol: 'BGP',
          node: 'node-b',
          peers: [
            { name: 'r1', state: 'Established' },
            { name: 'r2', state: 'Active' },
          ],
        },
      ],
      pendingReason: null,
    });
  });

  it('a pending Service carries the newest failure event of this incarnation (uid), not older ones or other reasons', () => {
    assert.deepEqual(byName('db'), {
      namespace: 'default',
      name: 'db',
      state: 'pending',
      ips: [],
      pool: null,
      protocol: null,
      announcements: [],
      pendingReason: {
        reason: 'AllocationFailed',
        message: 'no IP available: pool lan: no free address; pool v6: wrong family',
        time: '2026-11-22T09:05:00Z',
      },
    });
  });

  it('LoadBalancerFailed (requested IPs) counts as a failure too; events without uid still match', () => {
    const r = buildStatusReport({
      ...empty,
      services: [lbService('default', 'fixed')],
      events: [
        {
          ...failureEvent(
            'default/fixed',
            'cannot assign requested 198.51.100.7: in use',
            '2026-11-22T09:00:00Z',
            {
              reason: 'LoadBalancerFailed',
            },
          ),
          involvedObject: { kind: 'Service', namespace: 'default', name: 'fixed' },
        },
      ],
    });
    assert.equal(r.services[0]?.pendingReason?.reason, 'LoadBalancerFailed');
    assert.equal(r.services[0]?.pendingReason?.message, 'cannot assign requested 198.51.100.7: in use');
  });

  it('a Service with IPs that no node announces is "assigned", with the L2/BGP objects of other Services ignored', () => {
    const orphan = byName('orphan');
    assert.equal(orphan?.state, 'assigned');
    assert.deepEqual(orphan?.announcements, []);
    assert.equal(orphan?.protocol, null);
  });

  it('L2 and BGP together give protocol L2+BGP; status objects are matched by labels when status fields are missing', () => {
    const l2 = l2Status('default/both', 'node-c');
    const bare = { ...l2, status: { node: 'node-c' } };
    const r = buildStatusReport({
      ...empty,
      services: [lbService('default', 'both', { ips: ['198.51.100.50'] })],
      l2Statuses: [bare],
      bgpStatuses: [bgpStatus('default/both', 'node-a', ['r9'])],
    });
    assert.equal(r.services[0]?.protocol, 'BGP+L2');
    assert.deepEqual(r.services[0]?.announcements, [
      { protocol: 'BGP', node: 'node-a', peers: [{ name: 'r9', state: null }] },
      { protocol: 'L2', node: 'node-c', interfaces: [] },
    ]);
    assert.equal(bare.metadata.labels?.[StatusLabels.ServiceName], 'both');
  });

  it('ignores status objects of Services that are gone and Services without IPs', () => {
    const r = buildStatusReport({
      ...empty,
      services: [lbService('default', 'new')],
      l2Statuses: [l2Status('default/gone', 'node-a'), l2Status('default/new', 'node-a')],
    });
    assert.equal(r.services.length, 1);
    assert.equal(r.services[0]?.state, 'pending');
    assert.deepEqual(r.services[0]?.announcements, []);
  });
});

describe('buildStatusReport: sessions and pools', () => {
  const report = buildStatusReport(sampleCluster());

  it('BGP sessions sorted by node and peer with every field, BFD included; absent fields are null', () => {
    assert.deepEqual(report.bgpSessions, [
      {
        node: 'node-a',
        peer: 'r1',
        peerAddress: '192.0.2.1',
        state: 'Established',
        since: '2026-11-22T09:00:00Z',
        prefixesAdvertised: 2,
        lastError: null,
        bfd: { state: 'Up', since: '2026-11-22T09:00:00Z', diagnostic: 'NoDiagnostic' },
      },
      {
        node: 'node-b',
        peer: 'r1',
        peerAddress: '192.0.2.1',
        state: 'Established',
        since: '2026-11-22T08:00:00Z',
        prefixesAdvertised: 2,
        lastError: null,
        bfd: null,
      },
      {
        node: 'node-b',
        peer: 'r2',
        peerAddress: '2001:db8:0:1::2',
        state: 'Active',
        since: '2026-11-22T09:08:00Z',
        prefixesAdvertised: 0,
        lastError: 'connect ECONNREFUSED',
        bfd: { state: 'Down', since: '2026-11-22T09:08:00Z', diagnostic: 'ControlDetectionTimeExpired' },
      },
    ]);
    const bare = buildStatusReport({ ...empty, sessions: [{ ...session('n', 'p', 'Idle'), status: {} }] });
    assert.deepEqual(bare.bgpSessions, [
      {
        node: 'n',
        peer: 'p',
        peerAddress: null,
        state: 'Unknown',
        since: null,
        prefixesAdvertised: null,
        lastError: null,
        bfd: null,
      },
    ]);
  });

  it('pool counts are the exact decimal strings of the status, 2^64 included', () => {
    const v6 = report.pools.find((p) => p.name === 'v6');
    assert.deepEqual(v6, {
      name: 'v6',
      addresses: ['2001:db8:200::/64'],
      autoAssign: true,
      assigned: { IPv4: '0', IPv6: '0' },
      available: { IPv4: '0', IPv6: '18446744073709551616' },
      configValid: { status: 'True', reason: 'Loaded', message: 'the pool is in force' },
    });
    assert.equal(BigInt(v6.available.IPv6 ?? '0'), 2n ** 64n);
    assert.deepEqual(
      report.pools.map((p) => p.name),
      ['broken', 'lan', 'v6'],
    );
    const broken = report.pools.find((p) => p.name === 'broken');
    assert.deepEqual(broken?.assigned, { IPv4: null, IPv6: null });
    assert.equal(broken?.configValid?.status, 'False');
  });
});

describe('buildStatusReport: problems', () => {
  it('lists pending and unannounced Services, sessions not Established, pools not in force, in that order', () => {
    const { problems } = buildStatusReport(sampleCluster());
    assert.deepEqual(problems, [
      {
        kind: ProblemKinds.ServicePending,
        object: 'default/db',
        message: 'no IP: AllocationFailed: no IP available: pool lan: no free address; pool v6: wrong family',
      },
      {
        kind: ProblemKinds.ServiceNotAnnounced,
        object: 'default/orphan',
        message:
          '198.51.100.30 not announced by any node (no L2Advertisement or BGPAdvertisement for pool lan, no eligible node, or no ready endpoint with externalTrafficPolicy Local)',
      },
      {
        kind: ProblemKinds.SessionNotEstablished,
        object: 'node-b/r2',
        message:
          'BGP session to r2 (2001:db8:0:1::2) from node-b is Active since 2026-11-22T09:08:00Z; last error: connect ECONNREFUSED',
      },
      {
        kind: ProblemKinds.PoolConfigInvalid,
        object: 'broken',
        message:
          'pool not in force: ConfigurationError: IPAddressPool metalbeacon-system/broken spec.addresses[0]: invalid address',
      },
    ]);
  });

  it('a pending Service without any event and a pool without a condition point at the controller', () => {
    const { problems } = buildStatusReport({
      ...empty,
      services: [lbService('default', 'new')],
      pools: [pool('fresh', ['198.51.100.0/28'])],
    });
    assert.deepEqual(
      problems.map((p) => [p.kind, p.object]),
      [
        [ProblemKinds.ServicePending, 'default/new'],
        [ProblemKinds.PoolStatusMissing, 'fresh'],
      ],
    );
    assert.match(problems[0]!.message, /no AllocationFailed event: is the controller running/);
    assert.match(problems[1]!.message, /is the controller running/);
  });

  it('a healthy cluster has no problems', () => {
    const r = buildStatusReport({
      ...empty,
      services: [lbService('default', 'web', { ips: ['198.51.100.10'], pool: 'lan' })],
      l2Statuses: [l2Status('default/web', 'node-a')],
      pools: [
        pool('lan', ['198.51.100.0/24'], {
          assignedIPv4: '1',
          availableIPv4: '255',
          valid: { status: 'True', reason: 'Loaded', message: 'ok' },
        }),
      ],
      sessions: [session('node-a', 'r1', 'Established')],
    });
    assert.deepEqual(r.problems, []);
  });
});

describe('buildStatusReport: the JSON document', () => {
  it('has a stable top-level shape and survives JSON with exact big counts', () => {
    const report = buildStatusReport(sampleCluster());
    assert.deepEqual(Object.keys(report), [
      'version',
      'namespace',
      'lbClass',
      'services',
      'otherClassServices',
      'bgpSessions',
      'pools',
      'problems',
    ]);
    assert.equal(report.version, 1);
    assert.equal(report.lbClass, null);
    const text = JSON.stringify(report);
    assert.ok(text.includes('"availableIPv6"') === false, 'counts are grouped by family, not status keys');
    assert.ok(text.includes('"IPv6":"18446744073709551616"'));
    assert.deepEqual(JSON.parse(text), report);
    // No undefined anywhere: every absent value is an explicit null.
    assert.ok(!/undefined/.test(JSON.stringify(report, (_k, v) => (v === undefined ? 'undefined' : v))));
  });

  it('does not depend on the order the API lists objects in', () => {
    const base = sampleCluster();
    const expected = buildStatusReport(base);
    fc.assert(
      fc.property(
        fc.infiniteStream(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })),
        (rand) => {
          const shuffle = <T>(xs: readonly T[]): T[] => {
            const out = [...xs];
            for (let i = out.length - 1; i > 0; i--) {
              const j = Math.floor(rand.next().value * (i + 1));
              [out[i], out[j]] = [out[j]!, out[i]!];
            }
            return out;
          };
          const shuffled: StatusInput = {
            ...base,
            services: shuffle(base.services),
            events: shuffle(base.events),
            pools: shuffle(base.pools),
            l2Statuses: shuffle(base.l2Statuses),
            bgpStatuses: shuffle(base.bgpStatuses),
            sessions: shuffle(base.sessions),
          };
          assert.deepEqual(buildStatusReport(shuffled), expected);
        },
      ),
      { numRuns: 50 },
    );
  });
});
