import {
  BPF_MAX_INSTRUCTIONS,
  type BpfInstruction,
  BpfOp,
  SKF_AD_RANDOM_OFFSET,
  SKF_NET_OFF,
} from '../../l2/bpf/bpf.ts';
import { parseIpv4, parseIpv6 } from '../../l2/frames/addr.ts';
import type { SourceTable } from '../peers/peers.ts';
import { OTHER_SOURCES } from './flood-guard.ts';
import type { PeerRecord } from './protocol.ts';

/**
 * The kernel filter on the membership socket (classic BPF, SO_ATTACH_FILTER): the screen's
 * first checks (./screen.ts), done before a datagram is queued to us, for when a LAN host
 * floods the port faster than the speaker's thread can read. Reading a datagram costs the
 * thread several microseconds before any of our code runs; dropping it here costs nothing.
 *
 * Per source (address and port of a peer's speaker) a policy: `all` passes everything (the
 * normal state: the screen decides), `sample` passes the datagrams that continue one of the
 * given incarnations (a live peer's heartbeats) and one in `oneIn` of the rest (each sampled
 * source its own share, ./flood-guard.ts), chosen at random (a flood spoofing that source, and a restarted peer's first heartbeats, which
 * then take a little longer to be heard). Datagrams from no listed source follow `others`.
 * Pure: builds instructions; the shell attaches them and decides the policies.
 */

/** How the datagrams of one source (or of all unlisted ones) get through. */
export type SourcePolicy =
  | { readonly pass: 'all' }
  | {
      readonly pass: 'sample';
      readonly incarnations: readonly bigint[];
      /** The share of the rest passed; default the program's `sampleOneIn`. */
      readonly oneIn?: number;
    };

/** A listed source: an address (4 or 16 bytes) and the port its speaker sends from. */
export interface FilterSource {
  readonly address: Uint8Array;
  readonly port: number;
  readonly policy: SourcePolicy;
}

const ACCEPT = 0x40000;

/** The filter when nothing floods us: every datagram goes to the screen. */
export const PASS_EVERYTHING: readonly BpfInstruction[] = [{ code: BpfOp.Return, jt: 0, jf: 0, k: ACCEPT }];
/** The UDP payload (the membership message) starts after the 8-byte UDP header. */
const INCARNATION_HIGH = 8 + 4;
const INCARNATION_LOW = 8 + 8;

type Item = BpfInstruction | { readonly label: string } | { readonly jumpTo: string };

const op = (code: number, k = 0, jt = 0, jf = 0): BpfInstruction => ({ code, jt, jf, k: k >>> 0 });
const words = (address: Uint8Array) =>
  Array.from(
    { length: address.length / 4 },
    (_, i) =>
      ((address[4 * i]! << 24) |
        (address[4 * i + 1]! << 16) |
        (address[4 * i + 2]! << 8) |
        address[4 * i + 3]!) >>>
      0,
  );

/**
 * The program for these sources; undefined when it would be longer than the kernel takes
 * (the screen alone then does the work). `sampleOneIn` ≥ 1: the share of `others` passed, and
 * of a sampled source that names none.
 */
export function membershipSocketFilter(
  sources: readonly FilterSource[],
  others: SourcePolicy['pass'],
  sampleOneIn: number,
): BpfInstruction[] | undefined {
  const byAddress = new Map<string, { address: Uint8Array; ports: FilterSource[] }>();
  for (const source of sources) {
    const key = source.address.join('.');
    const entry = byAddress.get(key) ?? { address: source.address, ports: [] };
    entry.ports.push(source);
    byAddress.set(key, entry);
  }
  const addresses = [...byAddress.values()];
  const items: Item[] = [
    op(BpfOp.LoadByteAbsolute, SKF_NET_OFF), // IP version
    op(BpfOp.AndConstant, 0xf0),
    op(BpfOp.JumpIfEqual, 0x40, 0, 1),
    { jumpTo: 'v4' },
    op(BpfOp.JumpIfEqual, 0x60, 0, 1),
    { jumpTo: 'v6' },
    op(BpfOp.Return, 0),
    { label: 'v4' },
    op(BpfOp.LoadWordAbsolute, SKF_NET_OFF + 12), // IPv4 source
  ];
  addresses.forEach(({ address }, i) => {
    if (address.length === 4)
      items.push(op(BpfOp.JumpIfEqual, words(address)[0], 0, 1), { jumpTo: `source${i}` });
  });
  items.push({ jumpTo: 'others' }, { label: 'v6' });
  addresses.forEach(({ address }, i) => {
    if (address.length !== 16) return;
    const [w0, w1, w2, w3] = words(address) as [number, number, number, number];
    items.push(
      op(BpfOp.LoadWordAbsolute, SKF_NET_OFF + 8), // IPv6 source, word by word
      op(BpfOp.JumpIfEqual, w0, 0, 7),
      op(BpfOp.LoadWordAbsolute, SKF_NET_OFF + 12),
      op(BpfOp.JumpIfEqual, w1, 0, 5),
      op(BpfOp.LoadWordAbsolute, SKF_NET_OFF + 16),
      op(BpfOp.JumpIfEqual, w2, 0, 3),
      op(BpfOp.LoadWordAbsolute, SKF_NET_OFF + 20),
      op(BpfOp.JumpIfEqual, w3, 0, 1),
      { jumpTo: `source${i}` },
    );
  });
  items.push({ jumpTo: 'others' });
  addresses.forEach(({ ports }, i) => {
    items.push({ label: `source${i}` }, op(BpfOp.LoadHalfAbsolute, 0)); // UDP source port
    for (const [j, source] of ports.entries()) {
      items.push(op(BpfOp.JumpIfEqual, source.port, 0, 1), { jumpTo: `policy${i}.${j}` });
    }
    // A peer's address from another port: not its speaker.
    items.push({ jumpTo: 'others' });
    ports.forEach((source, j) => {
      items.push({ label: `policy${i}.${j}` });
      if (source.policy.pass === 'all') {
        items.push(op(BpfOp.Return, ACCEPT));
        return;
      }
      for (const incarnation of source.policy.incarnations) {
        items.push(
          op(BpfOp.LoadWordAbsolute, INCARNATION_HIGH),
          op(BpfOp.JumpIfEqual, Number(incarnation >> 32n), 0, 3),
          op(BpfOp.LoadWordAbsolute, INCARNATION_LOW),
          op(BpfOp.JumpIfEqual, Number(incarnation & 0xffffffffn), 0, 1),
          op(BpfOp.Return, ACCEPT),
        );
      }
      items.push(...sample(source.policy.oneIn ?? sampleOneIn));
    });
  });
  items.push({ label: 'others' });
  items.push(...(others === 'all' ? [op(BpfOp.Return, ACCEPT)] : sample(sampleOneIn)));
  return assemble(items);
}

/** Passes one in `oneIn` datagrams, drawn at random by the kernel. */
function sample(oneIn: number): BpfInstruction[] {
  return [
    op(BpfOp.LoadWordAbsolute, SKF_AD_RANDOM_OFFSET),
    op(BpfOp.JumpIfGreaterOrEqual, Math.floor(2 ** 32 / Math.max(1, oneIn)), 0, 1),
    op(BpfOp.Return, 0),
    op(BpfOp.Return, ACCEPT),
  ];
}

/** Resolves labels: each `jumpTo` becomes an unconditional jump (32-bit offset) to its label. */
function assemble(items: readonly Item[]): BpfInstruction[] | undefined {
  const at = new Map<string, number>(); // label -> instruction index
  let count = 0;
  for (const item of items) {
    if ('label' in item) at.set(item.label, count);
    else count++;
  }
  if (count > BPF_MAX_INSTRUCTIONS) return undefined;
  const program: BpfInstruction[] = [];
  for (const item of items) {
    if ('label' in item) continue;
    if ('jumpTo' in item) {
      const target = at.get(item.jumpTo);
      if (target === undefined) throw new Error(`membershipSocketFilter: no label ${item.jumpTo}`);
      program.push(op(BpfOp.JumpAlways, target - program.length - 1));
    } else program.push(item);
  }
  return program;
}

/**
 * The key a source is counted under in the flood guard: a listed address (IPv4 without the
 * mapped prefix), or {@link OTHER_SOURCES} for every address outside `table` — whatever the
 * reason a datagram was dropped for, so the guard holds no more keys than the peer list has
 * addresses, however many addresses a flood spoofs.
 */
export function floodKey(table: SourceTable, address: string): string {
  if (!table.has(address)) return OTHER_SOURCES;
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/**
 * The filter's sources from the screen's table: the `sampled` ones (flood-guard key → the
 * share the kernel passes of it) pass the current incarnations of the peers sending from
 * there and their share of the rest, all others everything. `othersOneIn`: the share of
 * addresses of no peer, when they are sampled.
 */
export function filterSources(
  table: SourceTable,
  peers: ReadonlyMap<string, PeerRecord>,
  sampled: ReadonlyMap<string, number>,
): { sources: FilterSource[]; others: SourcePolicy['pass']; othersOneIn: number } {
  const sources: FilterSource[] = [];
  for (const [text, names] of table) {
    if (floodKey(table, text) !== text) continue; // the IPv4-mapped alias of an IPv4 entry
    const address = parseIpv4(text) ?? parseIpv6(text);
    if (!address) continue;
    for (const [name, port] of names) {
      const incarnation = peers.get(name)?.incarnation;
      const oneIn = sampled.get(text);
      const policy: SourcePolicy =
        oneIn === undefined
          ? { pass: 'all' }
          : { pass: 'sample', incarnations: incarnation === undefined ? [] : [incarnation], oneIn };
      sources.push({ address, port, policy });
    }
  }
  const othersOneIn = sampled.get(OTHER_SOURCES);
  return {
    sources,
    others: othersOneIn === undefined ? 'all' : 'sample',
    othersOneIn: othersOneIn ?? 1,
  };
}
