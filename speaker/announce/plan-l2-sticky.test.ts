import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { NODE_EXCLUSION_LABEL } from '../../shared/api/names.ts';
import { rankAnnouncers } from './choose-announcer.ts';
import { advertisedHoldings, holdingsByNode } from './holdings.ts';
import { planNode } from './plan.ts';
import {
  type Cluster,
  configOf,
  inputFor,
  l2,
  l2Owners,
  l2Pool,
  nodeFacts,
  planAll,
  service,
  three,
} from './test-helpers.ts';

// Sticky L2 ownership (docs/adr/0012-l2-sticky-owner.md): an IP stays with a live, eligible
// node that says it answers for it; the node#ip ranking decides only when no candidate does.

const basic = configOf({ pools: [l2Pool], l2Advertisements: [l2('l2', { ipAddressPools: ['l2-pool'] })] });
const IP = '198.51.100.1';
const IP6 = '2001:db8:100::5';
const ranked = (ip: string, names = three.map((n) => n.name)) =>
  rankAnnouncers(
    ip,
    names.map((name) => ({ name, alive: true, eligible: true })),
  );
/** IP -> announcers, over the plans of the alive nodes (a dead one announces nothing). */
const owners = (cluster: Cluster) => {
  const alive = new Set(cluster.alive ?? (cluster.nodes ?? three).map((n) => n.name));
  return l2Owners(new Map([...planAll(cluster)].filter(([name]) => alive.has(name))));
};

test('sticky: the node the ranking prefers comes back and does not take the IP from its live holder', () => {
  for (const ip of [IP, IP6]) {
    const [first, second] = ranked(ip) as [string, string];
    const services = [service('web', [ip])];
    // While the first is away the second answers for the IP...
    const away = owners({
      config: basic,
      services,
      alive: three.map((n) => n.name).filter((n) => n !== first),
    });
    assert.deepEqual(away.get(ip), [second], ip);
    // ...and says so; the first is back: the IP stays, on every node's plan.
    const back = planAll({ config: basic, services, holdings: { [second]: [ip] } });
    assert.deepEqual(l2Owners(back).get(ip), [second], ip);
    const skip = back.get(first)!.skipped.find((s) => s.service === 'default/web');
    assert.equal(skip?.code, 'notOwner');
    assert.match(skip.reason, new RegExp(`announced by node ${second}`));
  }
});

test('sticky: without holdings (a cluster starting) the ranking decides, as before', () => {
  assert.deepEqual(owners({ config: basic, services: [service('web', [IP])] }).get(IP), [ranked(IP)[0]]);
  const none = owners({ config: basic, services: [service('web', [IP])], holdings: {} });
  assert.deepEqual(none.get(IP), [ranked(IP)[0]]);
});

test('sticky: the holder leaves or fails: the ranking among the rest decides, whatever it held', () => {
  const [first, second, third] = ranked(IP) as [string, string, string];
  const services = [service('web', [IP])];
  // The second held it; it is gone: the first (alive again) takes it, not the third.
  const gone = owners({ config: basic, services, alive: [first, third], holdings: { [second]: [IP] } });
  assert.deepEqual(gone.get(IP), [first]);
  // What a node holds counts only for the IPs it names.
  const other = owners({ config: basic, services, holdings: { [second]: ['198.51.100.2'] } });
  assert.deepEqual(other.get(IP), [first]);
});

test('sticky: a holder that is no longer eligible loses the IP (a user change moves it)', () => {
  const [first, second] = ranked(IP) as [string, string];
  const services = [service('web', [IP])];
  const holdings = { [second]: [IP] };
  // The exclusion label on the holder.
  const excluded = three.map((n) =>
    n.name === second ? nodeFacts(second, { [NODE_EXCLUSION_LABEL]: '' }) : n,
  );
  assert.deepEqual(owners({ config: basic, services, nodes: excluded, holdings }).get(IP), [first]);
  // The L2Advertisement's nodeSelectors leave the holder out.
  const labelled = three.map((n) => nodeFacts(n.name, { zone: n.name === second ? 'b' : 'a' }));
  const selective = configOf(
    {
      pools: [l2Pool],
      l2Advertisements: [
        l2('l2', { ipAddressPools: ['l2-pool'], nodeSelectors: [{ matchLabels: { zone: 'a' } }] }),
      ],
    },
    labelled,
  );
  assert.deepEqual(owners({ config: selective, services, nodes: labelled, holdings }).get(IP), [first]);
  // externalTrafficPolicy Local and the holder's last endpoint gone.
  const local = [service('web', [IP], { etp: 'Local', endpoints: [first] })];
  assert.deepEqual(owners({ config: basic, services: local, holdings }).get(IP), [first]);
});

test('sticky: two or three holders (a healed split brain) resolve to the best ranked holder, on every node', () => {
  for (const ip of [IP, IP6]) {
    const [first, second, third] = ranked(ip) as [string, string, string];
    const services = [service('web', [ip])];
    // The first holds nothing: the holders decide between themselves, the first stays out.
    const two = owners({ config: basic, services, holdings: { [third]: [ip], [second]: [ip] } });
    assert.deepEqual(two.get(ip), [second], ip);
    const all = owners({
      config: basic,
      services,
      holdings: { [third]: [ip], [second]: [ip], [first]: [ip] },
    });
    assert.deepEqual(all.get(ip), [first], ip);
  }
});

test('sticky: the holdings order, and holdings of unknown nodes, change nothing', () => {
  const [, second, third] = ranked(IP) as [string, string, string];
  const services = [service('web', [IP]), service('other', ['198.51.100.2'])];
  const a = planAll({
    config: basic,
    services,
    holdings: { [second]: [IP, '198.51.100.2'], [third]: [IP], 'node-gone': [IP] },
  });
  const b = planAll({
    config: basic,
    services,
    holdings: { 'node-gone': [IP], [third]: [IP], [second]: ['198.51.100.2', IP] },
  });
  assert.deepEqual(a, b);
  assert.deepEqual(l2Owners(a).get(IP), [second]);
});

test('sticky, simulated: nodes fail, leave and return; each round every node plans from what the others held, and an IP moves only when its holder is gone', () => {
  const names = three.map((n) => n.name);
  const ips = ['198.51.100.1', '198.51.100.2', '198.51.100.3', '198.51.100.4', IP6, '2001:db8:100::6'];
  const services = ips.map((ip, i) => service(`s${i}`, [ip]));
  // Each run toggles one node per round: gone if alive (unless it is the last), back if gone.
  const runs = fc.array(fc.constantFrom(...names), { minLength: 40, maxLength: 40 });
  fc.assert(
    fc.property(runs, (toggles) => simulate(toggles)),
    { numRuns: 30, seed: 18 },
  );
  function simulate(toggles: readonly string[]): void {
    const run = toggles.join(',');
    let alive = new Set(names);
    let held = new Map<string, string[]>(); // node -> IPs its last plan announced
    let owner = new Map<string, string>(); // IP -> its one announcer after the last round
    for (const [round, node] of toggles.entries()) {
      const next = new Set(alive);
      if (next.has(node) && next.size > 1) next.delete(node);
      else next.add(node);
      // A node that is gone announces nothing; one that returns starts with nothing.
      for (const name of names) if (!next.has(name)) held.delete(name);
      alive = next;
      // Two passes: a node's holdings reach the others after its plan (membership), then settle.
      for (let pass = 0; pass < 2; pass++) {
        const holdings = Object.fromEntries(held);
        const plans = new Map(
          [...alive].map((name) => [
            name,
            planNode(inputFor({ config: basic, services, alive: [...alive], holdings }, name)),
          ]),
        );
        held = new Map([...plans].map(([name, plan]) => [name, plan.l2.map((a) => a.ip)]));
      }
      const now = new Map<string, string>();
      for (const [name, ipsHeld] of held) {
        for (const ip of ipsHeld) {
          assert.equal(
            now.has(ip),
            false,
            `run ${run} round ${round}: ${ip} held by ${now.get(ip)} and ${name}`,
          );
          now.set(ip, name);
        }
      }
      for (const ip of ips) {
        assert.ok(now.has(ip), `run ${run} round ${round}: nobody answers for ${ip}`);
        const before = owner.get(ip);
        if (before !== undefined && alive.has(before))
          assert.equal(now.get(ip), before, `run ${run} round ${round}: ${ip} moved from live ${before}`);
      }
      owner = now;
    }
  }
});

test('advertisedHoldings: canonical, in address order, once each, without what is no IP', () => {
  assert.deepEqual(
    advertisedHoldings(['2001:DB8::1', '198.51.100.10', '198.51.100.9', '2001:db8:0::1', 'x']),
    ['198.51.100.9', '198.51.100.10', '2001:db8::1'],
  );
  const many = Array.from({ length: 600 }, (_, i) => `2001:db8::${(600 - i).toString(16)}`);
  const capped = advertisedHoldings(many);
  assert.equal(capped.length, 512);
  assert.equal(capped[0], '2001:db8::1');
  assert.equal(capped.at(-1), '2001:db8::200');
});

test('holdingsByNode: this node from its own list (never from what a peer claims for it), the peers as heard', () => {
  const map = holdingsByNode(
    'node-a',
    [IP],
    new Map([
      ['node-a', ['198.51.100.7']],
      ['node-b', [IP6]],
    ]),
  );
  assert.deepEqual(
    [...map].map(([n, s]) => [n, [...s]]),
    [
      ['node-b', [IP6]],
      ['node-a', [IP]],
    ],
  );
});
