import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { BPF_MAX_INSTRUCTIONS, runBpf } from '../../l2/bpf/bpf.ts';
import { parseIpv4, parseIpv6 } from '../../l2/frames/addr.ts';
import { encodeMessage } from '../codec/codec.ts';
import { type FilterSource, filterSources, floodKey, membershipSocketFilter } from './socket-filter.ts';

const key = Buffer.alloc(32, 3);
const message = (incarnation: bigint) =>
  encodeMessage({ type: 'Heartbeat', sender: 'node-b', incarnation, sequence: 9n, sentAtMs: 1 }, key);

/** A UDP datagram as the socket filter sees it: from the UDP header on, the IP header before it. */
function datagram(source: string, sourcePort: number, payload: Uint8Array) {
  const v6 = source.includes(':');
  const ip = new Uint8Array(v6 ? 40 : 20);
  if (v6) {
    ip[0] = 0x60;
    ip.set(parseIpv6(source)!, 8);
  } else {
    ip[0] = 0x45;
    ip.set(parseIpv4(source)!, 12);
  }
  const udp = new Uint8Array(8 + payload.length);
  new DataView(udp.buffer).setUint16(0, sourcePort);
  new DataView(udp.buffer).setUint16(2, 7951);
  udp.set(payload, 8);
  const network = new Uint8Array(ip.length + udp.length);
  network.set(ip);
  network.set(udp, ip.length);
  return { packet: udp, network };
}

const v4 = (ip: string) => parseIpv4(ip)!;
const v6 = (ip: string) => parseIpv6(ip)!;
const SOURCES: FilterSource[] = [
  { address: v4('192.0.2.12'), port: 7951, policy: { pass: 'all' } },
  { address: v4('192.0.2.13'), port: 7951, policy: { pass: 'sample', incarnations: [1_800_000_000_123n] } },
  { address: v6('2001:db8:0:1::12'), port: 7951, policy: { pass: 'all' } },
  { address: v6('2001:db8:0:1::13'), port: 7951, policy: { pass: 'sample', incarnations: [5n, 7n << 40n] } },
  { address: v4('127.0.0.1'), port: 40000, policy: { pass: 'all' } },
  { address: v4('127.0.0.1'), port: 40001, policy: { pass: 'sample', incarnations: [] } },
];

/** Whether the kernel would queue the datagram, with the random draw fixed at `random`. */
function passes(
  program: ReturnType<typeof membershipSocketFilter>,
  source: string,
  port: number,
  incarnation: bigint,
  random = 0xffffffff,
) {
  const { packet, network } = datagram(source, port, message(incarnation));
  return runBpf(program!, packet, { network, random: () => random }) !== 0;
}

test('listed sources pass by their policy; a sampled one passes its incarnations and a random share of the rest', () => {
  const program = membershipSocketFilter(SOURCES, 'sample', 64);
  assert.ok(program);
  const table: [string, number, bigint, boolean][] = [
    ['192.0.2.12', 7951, 1n, true],
    ['192.0.2.12', 7952, 1n, false], // a peer's address, another port: not its speaker
    ['192.0.2.13', 7951, 1_800_000_000_123n, true],
    ['192.0.2.13', 7951, 1_800_000_000_124n, false],
    ['192.0.2.13', 7951, 1_800_000_000_123n + (1n << 32n), false], // low word equal, high not
    ['2001:db8:0:1::12', 7951, 99n, true],
    ['2001:db8:0:1::13', 7951, 5n, true],
    ['2001:db8:0:1::13', 7951, 7n << 40n, true],
    ['2001:db8:0:1::13', 7951, 6n, false],
    ['2001:db8:0:1::14', 7951, 5n, false],
    ['127.0.0.1', 40000, 1n, true],
    ['127.0.0.1', 40001, 1n, false],
    ['192.0.2.66', 7951, 1n, false], // no listed source: `others`
  ];
  for (const [source, port, incarnation, expected] of table) {
    assert.equal(
      passes(program, source, port, incarnation),
      expected,
      `${source}:${port} incarnation ${incarnation}`,
    );
  }
  // The random draw: below 2^32 / 64 passes.
  const threshold = Math.floor(2 ** 32 / 64);
  assert.equal(passes(program, '192.0.2.13', 7951, 1n, threshold - 1), true);
  assert.equal(passes(program, '192.0.2.13', 7951, 1n, threshold), false);
  assert.equal(passes(program, '192.0.2.66', 7951, 1n, 0), true);
});

test('others "all" passes every unlisted source; a short or foreign packet is never taken for a match', () => {
  const program = membershipSocketFilter(SOURCES, 'all', 64);
  assert.equal(passes(program, '192.0.2.66', 7951, 1n), true);
  assert.equal(
    passes(program, '192.0.2.12', 9999, 1n),
    true,
    'an unlisted port counts as an unlisted source',
  );
  const { packet, network } = datagram('192.0.2.13', 7951, new Uint8Array(4));
  assert.equal(
    runBpf(program!, packet, { network, random: () => 0xffffffff }),
    0,
    'too short to read the incarnation',
  );
  const notIp = datagram('192.0.2.12', 7951, message(1n));
  notIp.network[0] = 0x20;
  assert.equal(runBpf(program!, notIp.packet, { network: notIp.network }), 0);
});

test('property: the sampled share is about one in sampleOneIn', () => {
  const program = membershipSocketFilter([], 'sample', 16);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffffffff }), (random) => {
      assert.equal(passes(program, '192.0.2.66', 7951, 1n, random), random < 2 ** 32 / 16);
    }),
  );
});

test('each sampled source passes its own share; the others theirs', () => {
  const sources: FilterSource[] = [
    { address: v4('192.0.2.12'), port: 7951, policy: { pass: 'sample', incarnations: [9n], oneIn: 1024 } },
    { address: v4('192.0.2.13'), port: 7951, policy: { pass: 'sample', incarnations: [] } },
  ];
  const program = membershipSocketFilter(sources, 'sample', 4096);
  const threshold = (oneIn: number) => Math.floor(2 ** 32 / oneIn);
  for (const [source, oneIn] of [
    ['192.0.2.12', 1024],
    ['192.0.2.13', 4096],
    ['192.0.2.66', 4096],
  ] as const) {
    assert.equal(passes(program, source, 7951, 1n, threshold(oneIn) - 1), true, `${source}: drawn in`);
    assert.equal(passes(program, source, 7951, 1n, threshold(oneIn)), false, `${source}: one in ${oneIn}`);
  }
  assert.equal(passes(program, '192.0.2.12', 7951, 9n), true, 'its incarnation, whatever the draw');
});

test('too many sources for one program: undefined, so the shell leaves the screen alone to it', () => {
  const many: FilterSource[] = Array.from({ length: 600 }, (_, i) => ({
    address: v6(`2001:db8::${i.toString(16)}`),
    port: 7951,
    policy: { pass: 'all' },
  }));
  assert.equal(membershipSocketFilter(many, 'all', 64), undefined);
  const fits = membershipSocketFilter(many.slice(0, 200), 'all', 64);
  assert.ok(fits && fits.length <= BPF_MAX_INSTRUCTIONS);
});

test("the filter's sources from the screen's table: one per address and port, the mapped alias left out, sampled ones with their peer's incarnation; flood keys", () => {
  const table = new Map([
    ['192.0.2.12', new Map([['node-b', 7951]])],
    ['::ffff:192.0.2.12', new Map([['node-b', 7951]])],
    ['2001:db8:0:1::13', new Map([['node-c', 7951]])],
  ]);
  const record = (incarnation: bigint | undefined) => ({
    listed: true,
    status: 'alive' as const,
    lastHeardMonoMs: 0,
    udpHeardMonoMs: 0,
    lan: undefined,
    incarnation,
    sequence: incarnation === undefined ? undefined : 1n,
    seen: incarnation === undefined ? 0n : 1n,
    changedAtMonoMs: 0,
    holdings: [],
    holdingsHeardMonoMs: undefined,
    restartUntilMonoMs: undefined,
    resumingUntilMonoMs: undefined,
    nodeAliveMonoMs: undefined,
  });
  const peers = new Map([
    ['node-b', record(77n)],
    ['node-c', record(undefined)],
  ]);
  const none = filterSources(table, peers, new Map());
  assert.deepEqual(
    none.sources.map((s) => [[...s.address].join('.'), s.port, s.policy.pass]),
    [
      ['192.0.2.12', 7951, 'all'],
      ['32.1.13.184.0.0.0.1.0.0.0.0.0.0.0.19', 7951, 'all'],
    ],
  );
  assert.equal(none.others, 'all');
  const flooded = filterSources(
    table,
    peers,
    new Map([
      ['192.0.2.12', 512],
      ['2001:db8:0:1::13', 64],
      ['*', 2048],
    ]),
  );
  assert.deepEqual(
    flooded.sources.map((s) => s.policy),
    [
      { pass: 'sample', incarnations: [77n], oneIn: 512 },
      { pass: 'sample', incarnations: [], oneIn: 64 },
    ],
  );
  assert.deepEqual([flooded.others, flooded.othersOneIn], ['sample', 2048]);
  assert.equal(floodKey(table, '::ffff:192.0.2.12'), '192.0.2.12');
  assert.equal(floodKey(table, '192.0.2.12'), '192.0.2.12');
  assert.equal(floodKey(table, '2001:db8:0:1::13'), '2001:db8:0:1::13');
  // Outside the table: one key for all, also for a datagram dropped for another reason first
  // (a flood claiming to be us from its own address is 'self', not 'unknown-source').
  assert.equal(floodKey(table, '::ffff:c000:20c'), '*');
  assert.equal(floodKey(table, '::ffff:192.0.2.66'), '*');
  assert.equal(floodKey(table, '2001:db8::1'), '*');
});
