import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIp } from '../../shared/net/ip.ts';
import { Allocator } from './allocator.ts';
import { converge } from './converge.ts';
import { ip, makeFacts, makePool } from './test-helpers.ts';

const texts = (ips: readonly { family: 'IPv4' | 'IPv6'; value: bigint }[] | undefined) =>
  (ips ?? []).map(formatIp);

describe('converge', () => {
  const pools = () => [
    makePool('dual', ['198.51.100.0/29', '2001:db8:100::/125']),
    makePool('other', ['198.51.100.8/29']),
  ];

  it('keeps the status IPs, adds nothing, and is idempotent', () => {
    const a = new Allocator(pools());
    const facts = makeFacts('ns/a');
    const first = converge(a, facts, [ip('198.51.100.5')], undefined);
    assert.deepEqual(texts(first.assignment?.ips), ['198.51.100.5']);
    assert.deepEqual(first.added, []);
    const again = converge(a, facts, first.assignment!.ips, undefined);
    assert.deepEqual(again, first);
  });

  it('allocates a new Service and reports the added IPs', () => {
    const a = new Allocator(pools());
    const outcome = converge(a, makeFacts('ns/a'), [], undefined);
    assert.deepEqual(texts(outcome.added), ['198.51.100.0']);
    assert.equal(outcome.cleared, undefined);
  });

  it('clears a status IP that is no longer allowed, with the reason, and allocates anew', () => {
    const a = new Allocator(pools());
    const outcome = converge(a, makeFacts('ns/a', { pool: 'other' }), [ip('198.51.100.5')], undefined);
    assert.equal(outcome.cleared?.refusal.reason, 'NotInRequestedPool');
    assert.deepEqual(texts(outcome.assignment?.ips), ['198.51.100.8']);
  });

  it('two Services claiming one IP in status: the first restored keeps it, the second is moved', () => {
    const a = new Allocator(pools());
    converge(a, makeFacts('ns/a'), [ip('198.51.100.3')], undefined);
    const second = converge(a, makeFacts('ns/b'), [ip('198.51.100.3')], undefined);
    assert.equal(second.cleared?.refusal.reason, 'Taken');
    assert.notDeepEqual(texts(second.assignment?.ips), ['198.51.100.3']);
    assert.deepEqual(a.holdersOf(ip('198.51.100.3')), ['ns/a']);
  });

  it('PreferDualStack adds the missing family from the same pool, or keeps one family', () => {
    const a = new Allocator(pools());
    const facts = makeFacts('ns/a', { families: ['IPv4', 'IPv6'], familyPolicy: 'PreferDualStack' });
    const outcome = converge(a, facts, [ip('198.51.100.2')], undefined);
    assert.deepEqual(texts(outcome.assignment?.ips), ['198.51.100.2', '2001:db8:100::']);
    assert.deepEqual(texts(outcome.added), ['2001:db8:100::']);
    const b = makeFacts('ns/b', { families: ['IPv4', 'IPv6'], familyPolicy: 'PreferDualStack' });
    const single = converge(a, b, [ip('198.51.100.9')], undefined);
    assert.deepEqual(texts(single.assignment?.ips), ['198.51.100.9']);
    assert.equal(single.additionalRefusals[0]?.reason, 'FamilyMissing');
  });

  it('dual to single stack keeps the primary IP and frees the other', () => {
    const a = new Allocator(pools());
    const dual = makeFacts('ns/a', { families: ['IPv4', 'IPv6'], familyPolicy: 'RequireDualStack' });
    const both = converge(a, dual, [], undefined);
    assert.equal(both.assignment?.ips.length, 2);
    const single = converge(a, makeFacts('ns/a'), both.assignment!.ips, undefined);
    assert.deepEqual(texts(single.assignment?.ips), ['198.51.100.0']);
    assert.deepEqual(a.holdersOf(ip('2001:db8:100::')), []);
  });

  it('a changed request replaces the IPs; an invalid request leaves the Service without IP', () => {
    const a = new Allocator(pools());
    const facts = makeFacts('ns/a');
    converge(a, facts, [], undefined);
    const moved = converge(a, facts, [ip('198.51.100.0')], [ip('198.51.100.12')]);
    assert.equal(moved.cleared?.refusal.reason, 'RequestChanged');
    assert.deepEqual(texts(moved.assignment?.ips), ['198.51.100.12']);
    const bad = converge(a, facts, moved.assignment!.ips, [ip('203.0.113.1')]);
    assert.equal(bad.assignment, undefined);
    assert.equal(bad.refusals[0]?.reason, 'NotInAnyPool');
    assert.equal(a.lookup('ns/a'), undefined);
  });
});
