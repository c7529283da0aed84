import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  type AnnouncerCandidate,
  chooseAnnouncer,
  OwnerInputError,
  rankAnnouncers,
} from './choose-announcer.ts';

const up = (name: string): AnnouncerCandidate => ({ name, alive: true, eligible: true });
const three = [up('node-a'), up('node-b'), up('node-c')];

// Ranks computed outside this code (`printf 'node-a#198.51.100.1' | sha256sum`), so a change
// of hash, separator or key format that would move IPs on upgrade fails here.
const fixedRanks: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['198.51.100.1', ['node-c', 'node-a', 'node-b']],
  ['198.51.100.2', ['node-b', 'node-c', 'node-a']],
  ['198.51.100.3', ['node-a', 'node-b', 'node-c']],
  ['198.51.100.77', ['node-c', 'node-a', 'node-b']],
  ['2001:db8:100::1', ['node-b', 'node-a', 'node-c']],
  ['2001:db8:100::2', ['node-a', 'node-c', 'node-b']],
  ['2001:db8:100::ff', ['node-b', 'node-c', 'node-a']],
];

test('the ranking of a fixed table is stable across versions', () => {
  for (const [ip, ranks] of fixedRanks) {
    assert.deepEqual(rankAnnouncers(ip, three), ranks, ip);
    assert.equal(chooseAnnouncer(ip, three), ranks[0], ip);
  }
});

test('the IP is keyed by its canonical text: any spelling elects the same node', () => {
  assert.deepEqual(
    rankAnnouncers('2001:DB8:100:0:0:0:0:FF', three),
    rankAnnouncers('2001:db8:100::ff', three),
  );
  assert.deepEqual(rankAnnouncers(' 198.51.100.2 ', three), ['node-b', 'node-c', 'node-a']);
});

test('dead and ineligible nodes are skipped; nobody left gives undefined', () => {
  // 198.51.100.1 ranks node-c, node-a, node-b.
  const deadOwner = [up('node-a'), up('node-b'), { name: 'node-c', alive: false, eligible: true }];
  assert.equal(chooseAnnouncer('198.51.100.1', deadOwner), 'node-a');
  const excluded = [{ name: 'node-a', alive: true, eligible: false }, up('node-b'), deadOwner[2]!];
  assert.equal(chooseAnnouncer('198.51.100.1', excluded), 'node-b');
  assert.equal(chooseAnnouncer('198.51.100.1', []), undefined);
  assert.equal(
    chooseAnnouncer('198.51.100.1', [{ name: 'node-a', alive: false, eligible: false }]),
    undefined,
  );
});

test('duplicate candidates count once', () => {
  assert.deepEqual(rankAnnouncers('198.51.100.3', [...three, ...three]), ['node-a', 'node-b', 'node-c']);
});

test('bad input is a typed error naming the value', () => {
  assert.throws(
    () => chooseAnnouncer('198.51.100.0/24', three),
    (e: unknown) =>
      e instanceof OwnerInputError && e.field === 'ip' && /"198\.51\.100\.0\/24"/.test(e.message),
  );
  assert.throws(
    () => chooseAnnouncer('198.51.100.1', [up('')]),
    (e: unknown) => e instanceof OwnerInputError && e.field === 'candidate.name',
  );
});

test('1,000 IPs spread over 3 nodes within 4 standard deviations of even', () => {
  const counts = new Map<string, number>();
  for (let i = 0; i < 1000; i++) {
    const ip =
      i < 256 ? `198.51.100.${i}` : i < 500 ? `203.0.113.${i - 256}` : `2001:db8:100::${i.toString(16)}`;
    const owner = chooseAnnouncer(ip, three)!;
    counts.set(owner, (counts.get(owner) ?? 0) + 1);
  }
  // Binomial(1000, 1/3): mean 333, sd 14.9.
  assert.equal(counts.size, 3);
  for (const [node, count] of counts)
    assert.ok(count >= 273 && count <= 393, `${node} owns ${count} of 1000`);
});

const nodeNames = fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/), { minLength: 2, maxLength: 8 });
const ipv4 = fc.ipV4();
const anyIp = fc.oneof(ipv4, fc.ipV6());

test('property: removing a node that is not the owner never moves the IP', () => {
  fc.assert(
    fc.property(anyIp, nodeNames, fc.nat(), (ip, names, pick) => {
      const owner = chooseAnnouncer(ip, names.map(up))!;
      const others = names.filter((n) => n !== owner);
      const removed = others[pick % others.length]!;
      const after = names.filter((n) => n !== removed).map(up);
      return chooseAnnouncer(ip, after) === owner;
    }),
  );
});

test('property: adding a node moves the IP only onto the new node', () => {
  fc.assert(
    fc.property(anyIp, nodeNames, (ip, names) => {
      const [added, ...rest] = names;
      const before = chooseAnnouncer(ip, rest.map(up));
      const after = chooseAnnouncer(ip, names.map(up));
      return after === before || after === added;
    }),
  );
});

test('property: the choice ignores candidate order, and the failover order is the ranking', () => {
  fc.assert(
    fc.property(ipv4, nodeNames, fc.nat(), (ip, names, seed) => {
      const k = seed % names.length;
      const shuffled = [...names.slice(k), ...names.slice(0, k)].reverse();
      const ranking = rankAnnouncers(ip, names.map(up));
      assert.deepEqual(rankAnnouncers(ip, shuffled.map(up)), ranking);
      const withoutOwner = names.map((n) => ({ ...up(n), alive: n !== ranking[0] }));
      assert.equal(chooseAnnouncer(ip, withoutOwner), ranking[1]);
    }),
  );
});
