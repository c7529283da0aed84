import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  describeAnnouncement,
  familyUsage,
  formatAge,
  renderStatusJson,
  renderStatusText,
  summaryLine,
} from './render.ts';
import { buildStatusReport } from './report.ts';
import { emptyCluster, l2Status, lbService, NS, pool, sampleCluster, session } from './test-helpers.ts';

const NOW = Date.parse('2026-11-22T09:10:00Z');

/** The lines of one section: from its title to the blank line after it. */
function section(text: string, title: string): string[] {
  const lines = text.split('\n');
  const start = lines.indexOf(title);
  assert.ok(start >= 0, `no section ${title}`);
  const end = lines.indexOf('', start);
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

describe('renderStatusText', () => {
  const report = buildStatusReport(sampleCluster());
  const text = renderStatusText(report, { nowMs: NOW });

  it('starts with a one-line summary', () => {
    assert.equal(
      text.split('\n')[0],
      'MetalBeacon (namespace metalbeacon-system): 4 LoadBalancer Services (1 pending), 3 BGP sessions (1 not Established), 3 pools (1 not in force), 4 problems',
    );
    const healthy = buildStatusReport({
      namespace: NS,
      lbClass: 'example.com/lb',
      services: [lbService('default', 'one', { ips: ['198.51.100.1'], lbClass: 'example.com/lb' })],
      events: [],
      pools: [],
      l2Statuses: [l2Status('default/one', 'node-a')],
      bgpStatuses: [],
      sessions: [session('node-a', 'r1', 'Established')],
    });
    assert.equal(
      summaryLine(healthy),
      'MetalBeacon (namespace metalbeacon-system, loadBalancerClass example.com/lb): 1 LoadBalancer Service, 1 BGP session, 0 pools, 0 problems',
    );
  });

  it('SERVICES: name, IPs, pool, mode and who announces; pending shows the failure; unannounced shows <none>', () => {
    assert.deepEqual(section(text, 'SERVICES'), [
      'NAMESPACE/NAME   IPS                               POOL   MODE   ANNOUNCED BY',
      'default/db       <pending>                         -      -      AllocationFailed: no IP available: pool lan: no free address; pool v6: wrong family',
      'default/orphan   198.51.100.30                     lan    -      <none>',
      'default/web      198.51.100.10                     lan    L2     node-a (eth0)',
      'shop/api         198.51.100.20, 2001:db8:100::20   lan    BGP    node-a -> r1; node-b -> r1, r2 (Active)',
      '(1 Service of another loadBalancerClass not shown)',
    ]);
  });

  it('BGP SESSIONS: node, peer, address, state with the BFD state and why it is down, age of the state, prefixes, last error', () => {
    assert.deepEqual(section(text, 'BGP SESSIONS'), [
      'NODE     PEER   ADDRESS           STATE                                            SINCE   PREFIXES   LAST ERROR',
      'node-a   r1     192.0.2.1         Established, BFD Up                              10m            2',
      'node-b   r1     192.0.2.1         Established                                      70m            2',
      'node-b   r2     2001:db8:0:1::2   Active, BFD Down (ControlDetectionTimeExpired)   2m             0   connect ECONNREFUSED',
    ]);
  });

  it('POOLS: exact used/free per family (2^64 in full), - for an absent family, the ConfigValid condition', () => {
    assert.deepEqual(section(text, 'POOLS'), [
      'NAME     ADDRESSES                             IPV4 USED/FREE           IPV6 USED/FREE   CONFIG',
      'broken   198.51.100.300/32                                  -                        -   ConfigurationError: IPAddressPool metalbeacon-system/broken spec.addresses[0]: invalid address',
      'lan      198.51.100.0/24, 2001:db8:100::/120            3/253                    1/255   valid',
      'v6       2001:db8:200::/64                                  -   0/18446744073709551616   valid',
    ]);
  });

  it('PROBLEMS at the end, one per line, in the report order', () => {
    const lines = text.trimEnd().split('\n');
    const start = lines.indexOf('PROBLEMS (4)');
    assert.ok(start > lines.indexOf('POOLS'));
    assert.deepEqual(
      lines.slice(start + 1),
      report.problems.map((p) => `- ${p.object}: ${p.message}`),
    );
  });

  it('says so when a section is empty, and "No problems." on a healthy cluster', () => {
    const none = renderStatusText(buildStatusReport(emptyCluster()), { nowMs: NOW });
    assert.deepEqual(none.trimEnd().split('\n').slice(2), [
      'SERVICES',
      'No LoadBalancer Services.',
      '',
      'BGP SESSIONS',
      'No BGP sessions.',
      '',
      'POOLS',
      'No IPAddressPools.',
      '',
      'No problems.',
    ]);
  });

  it('fits an 80-column terminal: tables shrink long cells, problems and the summary wrap', () => {
    const narrow = renderStatusText(report, { nowMs: NOW, width: 80 });
    for (const line of narrow.split('\n')) assert.ok(line.length <= 80, `${line.length}: ${line}`);
    assert.match(narrow, /default\/db {7}<pending> {25}- {6}- {6}AllocationFail…/);
    // IPs and exact counts are never cut.
    assert.match(narrow, /198\.51\.100\.20, 2001:db8:100::20/);
    assert.match(narrow, /0\/18446744073709551616/);
    assert.match(narrow, /\n {2}externalTrafficPolicy Local\)\n/);
  });
});

describe('text helpers', () => {
  it('formatAge follows kubectl', () => {
    const s = 1000;
    const cases: [number, string][] = [
      [0, '0s'],
      [-5 * s, '0s'],
      [119 * s, '119s'],
      [120 * s, '2m'],
      [312 * s, '5m12s'],
      [10 * 60 * s, '10m'],
      [179 * 60 * s, '179m'],
      [3 * 3600 * s, '3h'],
      [(3 * 3600 + 45 * 60) * s, '3h45m'],
      [8 * 3600 * s, '8h'],
      [47 * 3600 * s, '47h'],
      [(3 * 24 + 5) * 3600 * s, '3d5h'],
      [8 * 24 * 3600 * s, '8d'],
      [800 * 24 * 3600 * s, '2y70d'],
      [Number.NaN, '<unknown>'],
    ];
    for (const [ms, expected] of cases) assert.equal(formatAge(ms), expected, String(ms));
  });

  it('describeAnnouncement names interfaces, peers, and peers whose session is down or unknown', () => {
    assert.equal(describeAnnouncement({ protocol: 'L2', node: 'n1', interfaces: [] }), 'n1');
    assert.equal(
      describeAnnouncement({ protocol: 'L2', node: 'n1', interfaces: ['eth0', 'eth1'] }),
      'n1 (eth0, eth1)',
    );
    assert.equal(
      describeAnnouncement({
        protocol: 'BGP',
        node: 'n1',
        peers: [
          { name: 'r1', state: 'Established' },
          { name: 'r2', state: 'OpenSent' },
          { name: 'r3', state: null },
        ],
      }),
      'n1 -> r1, r2 (OpenSent), r3 (no session)',
    );
  });

  it('familyUsage: used/free, - when the family is absent', () => {
    assert.equal(familyUsage('3', '253'), '3/253');
    assert.equal(familyUsage('0', '0'), '-');
    assert.equal(familyUsage(null, null), '-');
    assert.equal(familyUsage('256', '0'), '256/0');
    assert.equal(familyUsage('0', '18446744073709551616'), '0/18446744073709551616');
  });

  it('renderStatusJson is the report, pretty-printed, with counts as exact strings', () => {
    const report = buildStatusReport({
      namespace: NS,
      services: [],
      events: [],
      pools: [pool('v6', ['2001:db8::/64'], { assignedIPv6: '1', availableIPv6: '18446744073709551615' })],
      l2Statuses: [],
      bgpStatuses: [],
      sessions: [],
    });
    const json = renderStatusJson(report);
    assert.ok(json.endsWith('}\n'));
    assert.match(json, /"IPv6": "18446744073709551615"/);
    assert.deepEqual(JSON.parse(json), report);
  });
});
