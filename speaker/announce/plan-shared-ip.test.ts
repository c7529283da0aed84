import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rankAnnouncers } from './choose-announcer.ts';
import { PlanInputError } from './errors.ts';
import { planNode } from './plan.ts';
import { configOf, inputFor, l2, l2Owners, l2Pool, planAll, service, three } from './test-helpers.ts';

const config = configOf({ pools: [l2Pool], l2Advertisements: [l2('l2', {})] });
const all = three.map((n) => ({ name: n.name, alive: true, eligible: true }));
const ip = '198.51.100.20';
const ranking = rankAnnouncers(ip, all);

test('shared IP: two Services on one IP have one owner, which announces both', () => {
  const services = [service('b', [ip]), service('a', [ip])];
  const plans = planAll({ config, services });
  assert.deepEqual(l2Owners(plans).get(ip), [ranking[0]]);
  assert.deepEqual(plans.get(ranking[0]!)!.l2[0]!.services, ['default/a', 'default/b']);
});

test('shared IP, ETP Local + Cluster: the owner is a node serving both (the intersection)', () => {
  const last = ranking[2]!;
  const services = [service('cluster', [ip]), service('local', [ip], { etp: 'Local', endpoints: [last] })];
  const plans = planAll({ config, services });
  assert.deepEqual(l2Owners(plans).get(ip), [last]);
  assert.deepEqual(plans.get(last)!.l2[0]!.services, ['default/cluster', 'default/local']);
});

test('shared IP, no alive node serves all: the owner serves some, the others are skipped with why', () => {
  // Two Local Services with endpoints on different nodes: no common node, so the IP goes to the
  // best ranked node serving either, rather than dark for both.
  const [first, second, third] = ranking as [string, string, string];
  const services = [
    service('x', [ip], { etp: 'Local', endpoints: [second] }),
    service('y', [ip], { etp: 'Local', endpoints: [third] }),
  ];
  const plans = planAll({ config, services });
  assert.deepEqual(l2Owners(plans).get(ip), [second]);
  assert.deepEqual(plans.get(second)!.l2[0]!.services, ['default/x']);
  const skip = plans.get(second)!.skipped.find((s) => s.service === 'default/y')!;
  assert.equal(skip.code, 'noLocalEndpoints');
  assert.match(skip.reason, /announced from this node for the other Services/);
  assert.equal(plans.get(first)!.l2.length, 0);
  // Local + Cluster whose only Local endpoint node is down: the Cluster Service keeps its IP.
  const mixed = [service('cluster', [ip]), service('local', [ip], { etp: 'Local', endpoints: [first] })];
  const alive = [second, third];
  const owners = l2Owners(
    new Map(alive.map((n) => [n, planNode(inputFor({ config, services: mixed, alive }, n))])),
  );
  assert.deepEqual(owners.get(ip), [second]);
});

test('bad input: duplicate Service keys or Node names are a typed error naming them', () => {
  assert.throws(
    () => planNode(inputFor({ config, services: [service('a', [ip]), service('a', [])] }, 'node-a')),
    (e: unknown) => e instanceof PlanInputError && e.field === 'services' && /default\/a/.test(e.message),
  );
  assert.throws(
    () => planNode(inputFor({ config, services: [], nodes: [...three, three[1]!] }, 'node-a')),
    (e: unknown) => e instanceof PlanInputError && e.field === 'nodes' && /node-b/.test(e.message),
  );
});

test('an ingress entry that is not an IP is skipped with a reason, the others still announced', () => {
  const plans = planAll({ config, services: [service('s', ['not-an-ip', ip])] });
  assert.deepEqual(l2Owners(plans).get(ip), [ranking[0]]);
  const skip = plans.get(ranking[0]!)!.skipped[0]!;
  assert.deepEqual([skip.ip, skip.code], ['not-an-ip', 'invalidIp']);
});
