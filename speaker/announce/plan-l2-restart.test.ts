import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rankAnnouncers } from './choose-announcer.ts';
import { clusterHoldings, ownHoldings } from './holdings.ts';
import { type Cluster, configOf, l2, l2Owners, l2Pool, planAll, service, three } from './test-helpers.ts';

// Restart in place (docs/adr/0013-l2-restart-in-place.md): a node whose speaker restarts is not
// alive, yet keeps the IPs it holds — nobody else answers for them — and gets no other IP.

const basic = configOf({ pools: [l2Pool], l2Advertisements: [l2('l2', { ipAddressPools: ['l2-pool'] })] });
const names = three.map((n) => n.name);
const ranked = (ip: string) =>
  rankAnnouncers(
    ip,
    names.map((name) => ({ name, alive: true, eligible: true })),
  ) as [string, string, string];
/** IP -> announcers over the plans of the alive nodes. */
const owners = (cluster: Cluster) => {
  const alive = new Set(cluster.alive ?? names);
  return l2Owners(new Map([...planAll(cluster)].filter(([name]) => alive.has(name))));
};

test('restart in place: the restarting holder keeps its IP, and no alive node answers for it', () => {
  for (const ip of ['198.51.100.1', '2001:db8:100::5']) {
    // The holder is the node the ranking puts last: without the rule the first would take it.
    const holder = ranked(ip)[2];
    const alive = names.filter((n) => n !== holder);
    const cluster = { config: basic, services: [service('web', [ip])], alive, holdings: { [holder]: [ip] } };
    assert.deepEqual(owners({ ...cluster, restarting: [holder] }).get(ip), undefined, ip);
    const plans = planAll({ ...cluster, restarting: [holder] });
    for (const node of alive) {
      const skip = plans.get(node)!.skipped.find((s) => s.service === 'default/web');
      assert.equal(skip?.code, 'notOwner', `${ip} on ${node}`);
      assert.match(skip.reason, new RegExp(`announced by node ${holder}`));
    }
    // The hold over (not restarting any more, not alive): the ranking among the alive decides.
    assert.deepEqual(owners(cluster).get(ip), [ranked(ip)[0]], ip);
  }
});

test('restart in place: a restarting node is a candidate for no IP it does not hold', () => {
  const ip = '198.51.100.1';
  const [first, second] = ranked(ip);
  // A Service created while the preferred node restarts goes to the next alive node.
  const got = owners({
    config: basic,
    services: [service('new', [ip])],
    alive: names.filter((n) => n !== first),
    restarting: [first],
    holdings: { [first]: ['198.51.100.2'] },
  });
  assert.deepEqual(got.get(ip), [second]);
  // Restarting with no holdings at all: the same.
  const none = owners({
    config: basic,
    services: [service('new', [ip])],
    alive: names.filter((n) => n !== first),
    restarting: [first],
  });
  assert.deepEqual(none.get(ip), [second]);
});

test('restart in place: a restarting holder that is no longer eligible loses the IP; a live holder beside it ranks as after a split', () => {
  const ip = '198.51.100.1';
  const [first, second, third] = ranked(ip);
  // Its Service's endpoints left the node (externalTrafficPolicy Local): the IP moves.
  const local = service('web', [ip], { etp: 'Local', endpoints: [second, third] });
  const moved = owners({
    config: basic,
    services: [local],
    alive: [second, third],
    restarting: [first],
    holdings: { [first]: [ip] },
  });
  assert.deepEqual(moved.get(ip), [second]);
  // Two holders (the restarting one and a live one): the ranking among them, on every node.
  const both = owners({
    config: basic,
    services: [service('web', [ip])],
    alive: [second, third],
    restarting: [first],
    holdings: { [first]: [ip], [third]: [ip] },
  });
  assert.deepEqual(both.get(ip), undefined, 'the first, restarting, keeps it: nobody alive answers');
  const liveAbove = owners({
    config: basic,
    services: [service('web', [ip])],
    alive: [first, second],
    restarting: [third],
    holdings: { [second]: [ip], [third]: [ip] },
  });
  assert.deepEqual(
    liveAbove.get(ip),
    [second],
    'the live second ranks above the restarting third and keeps it',
  );
});

test('restart in place: a restarted node counts what its peers say it held as its own, unless a peer holds it now', () => {
  const peers = new Map([['node-b', ['198.51.100.2']]]);
  assert.deepEqual(ownHoldings([], ['198.51.100.1', '198.51.100.2'], peers), ['198.51.100.1']);
  assert.deepEqual(ownHoldings(['2001:db8:100::5'], ['198.51.100.1'], new Map()), [
    '198.51.100.1',
    '2001:db8:100::5',
  ]);
  assert.deepEqual(ownHoldings(['198.51.100.1'], [], peers), ['198.51.100.1']);
});

test("clusterHoldings: own holdings beside the peers', restarting nodes only while there are any", () => {
  const membership = (restarting: string[]) => ({
    holdings: () =>
      new Map([
        ['node-b', ['198.51.100.2']],
        ['node-a', ['198.51.100.9']],
      ]),
    resumed: () => ['198.51.100.1', '198.51.100.2'],
    restarting: () => restarting,
  });
  const quiet = clusterHoldings('node-a', ['2001:db8:100::5'], membership([]));
  assert.deepEqual(
    quiet.holdings,
    new Map([
      ['node-b', new Set(['198.51.100.2'])],
      ['node-a', new Set(['198.51.100.1', '2001:db8:100::5'])],
    ]),
    'this node from its own list, never from what a peer claims for it',
  );
  assert.equal('restarting' in quiet, false);
  assert.deepEqual(clusterHoldings('node-a', [], membership(['node-c'])).restarting, new Set(['node-c']));
});
