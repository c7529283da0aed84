/**
 * Classic BPF (linux/filter.h) for the responder's packet socket: the kernel hands us ARP
 * and ICMPv6 Neighbor Solicitations only, so a busy LAN costs nothing in userspace.
 * Pure: builds bytes, opens nothing.
 */

/** Classic BPF opcodes used below (linux/bpf_common.h). */
export const BpfOp = {
  LoadWordAbsolute: 0x20, // BPF_LD | BPF_W | BPF_ABS
  LoadHalfAbsolute: 0x28, // BPF_LD | BPF_H | BPF_ABS
  LoadByteAbsolute: 0x30, // BPF_LD | BPF_B | BPF_ABS
  LoadLength: 0x80, // BPF_LD | BPF_W | BPF_LEN
  AndConstant: 0x54, // BPF_ALU | BPF_AND | BPF_K
  JumpAlways: 0x05, // BPF_JMP | BPF_JA
  JumpIfEqual: 0x15, // BPF_JMP | BPF_JEQ | BPF_K
  JumpIfGreaterOrEqual: 0x35, // BPF_JMP | BPF_JGE | BPF_K
  Return: 0x06, // BPF_RET | BPF_K
} as const;

/**
 * Special load offsets (linux/filter.h): `SKF_NET_OFF + n` reads byte n of the network
 * (IP) header wherever the program's packet starts (a UDP socket's filter starts at the UDP
 * header); `SKF_AD_OFF + SKF_AD_RANDOM` loads a random 32-bit number (sampling).
 */
export const SKF_NET_OFF = -0x100000;
export const SKF_AD_RANDOM_OFFSET = -0x1000 + 56;

/** One `struct sock_filter`. */
export interface BpfInstruction {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** Serialises instructions as `struct sock_filter[]` in host (little-endian on x86/arm) order. */
export function assembleBpf(program: readonly BpfInstruction[]): Buffer {
  const bytes = Buffer.alloc(program.length * 8);
  program.forEach((instruction, index) => {
    bytes.writeUInt16LE(instruction.code, index * 8);
    bytes.writeUInt8(instruction.jt, index * 8 + 2);
    bytes.writeUInt8(instruction.jf, index * 8 + 3);
    bytes.writeUInt32LE(instruction.k >>> 0, index * 8 + 4);
  });
  return bytes;
}

/** Accept ARP, and IPv6 whose next header is ICMPv6 (58) with type 135 (NS); drop the rest. */
export function arpAndNeighborSolicitationFilter(): BpfInstruction[] {
  const accept = 0x40000;
  return [
    { code: BpfOp.LoadHalfAbsolute, jt: 0, jf: 0, k: 12 }, // 0: EtherType
    { code: BpfOp.JumpIfEqual, jt: 5, jf: 0, k: 0x0806 }, // 1: ARP → 7
    { code: BpfOp.JumpIfEqual, jt: 0, jf: 5, k: 0x86dd }, // 2: not IPv6 → 8
    { code: BpfOp.LoadByteAbsolute, jt: 0, jf: 0, k: 20 }, // 3: IPv6 next header
    { code: BpfOp.JumpIfEqual, jt: 0, jf: 3, k: 58 }, // 4: not ICMPv6 → 8
    { code: BpfOp.LoadByteAbsolute, jt: 0, jf: 0, k: 54 }, // 5: ICMPv6 type
    { code: BpfOp.JumpIfEqual, jt: 0, jf: 1, k: 135 }, // 6: not NS → 8
    { code: BpfOp.Return, jt: 0, jf: 0, k: accept }, // 7
    { code: BpfOp.Return, jt: 0, jf: 0, k: 0 }, // 8
  ];
}

const ACCEPT = 0x40000;
const op = (code: number, k = 0, jt = 0, jf = 0): BpfInstruction => ({ code, jt, jf, k });
/** EtherType of membership frames (../frames/membership.ts). */
const MEMBERSHIP_ETHERTYPE = 0x88b5;

/**
 * The responder's filter when no narrower one fits: ARP, NS and NA (a NA naming an IP we
 * announce is a conflict), and membership frames (the LAN path of speaker/membership).
 */
export function responderFilter(): BpfInstruction[] {
  return [
    op(BpfOp.LoadHalfAbsolute, 12), // 0: EtherType
    op(BpfOp.JumpIfEqual, 0x0806, 7, 0), // 1: ARP → 9
    op(BpfOp.JumpIfEqual, MEMBERSHIP_ETHERTYPE, 6, 0), // 2: membership → 9
    op(BpfOp.JumpIfEqual, 0x86dd, 0, 6), // 3: not IPv6 → 10
    op(BpfOp.LoadByteAbsolute, 20), // 4: next header
    op(BpfOp.JumpIfEqual, 58, 0, 4), // 5: not ICMPv6 → 10
    op(BpfOp.LoadByteAbsolute, 54), // 6: ICMPv6 type
    op(BpfOp.JumpIfEqual, 135, 1, 0), // 7: NS → 9
    op(BpfOp.JumpIfEqual, 136, 0, 1), // 8: not NA → 10
    op(BpfOp.Return, ACCEPT), // 9
    op(BpfOp.Return, 0), // 10
  ];
}

/** Most instructions a socket filter may have (BPF_MAXINSNS). */
export const BPF_MAX_INSTRUCTIONS = 4096;

function ipv4Word(ip: string): number {
  const parts = ip.split('.').map(Number);
  return (((parts[0] ?? 0) << 24) | ((parts[1] ?? 0) << 16) | ((parts[2] ?? 0) << 8) | (parts[3] ?? 0)) >>> 0;
}

function ipv6Words(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, 16);
  return [0, 4, 8, 12].map((offset) => view.getUint32(offset));
}

/**
 * The filter for an interface answering `ipv4` and `ipv6` (16-byte addresses): the kernel
 * passes only ARP naming an owned IP (as target, or as sender: a conflict), NS and NA whose
 * target is owned (a NA for it is a conflict), membership frames, and anything that is not
 * well-formed enough to judge (too short, not Ethernet/IPv4 ARP) so userspace counts it as
 * malformed. A storm of requests for other IPs then costs no userspace time at all.
 * Undefined when the program would be too long (use {@link responderFilter} then).
 */
export function ownedAddressFilter(
  ipv4: readonly string[],
  ipv6: readonly Uint8Array[],
): BpfInstruction[] | undefined {
  const arp: BpfInstruction[] = [
    op(BpfOp.LoadLength),
    op(BpfOp.JumpIfGreaterOrEqual, 42, 1, 0),
    op(BpfOp.Return, ACCEPT), // short: malformed, for userspace to count
    op(BpfOp.LoadWordAbsolute, 14),
    op(BpfOp.JumpIfEqual, 0x00010800, 1, 0),
    op(BpfOp.Return, ACCEPT), // not Ethernet/IPv4 ARP: for userspace to count
    op(BpfOp.LoadHalfAbsolute, 18),
    op(BpfOp.JumpIfEqual, 0x0604, 1, 0),
    op(BpfOp.Return, ACCEPT),
  ];
  for (const offset of [38, 28]) {
    arp.push(op(BpfOp.LoadWordAbsolute, offset)); // target IP, then sender IP
    for (const ip of ipv4) arp.push(op(BpfOp.JumpIfEqual, ipv4Word(ip), 0, 1), op(BpfOp.Return, ACCEPT));
  }
  arp.push(op(BpfOp.Return, 0));
  const ns: BpfInstruction[] = [
    op(BpfOp.LoadByteAbsolute, 20),
    op(BpfOp.JumpIfEqual, 58, 1, 0),
    op(BpfOp.Return, 0),
    op(BpfOp.LoadByteAbsolute, 54),
    op(BpfOp.JumpIfEqual, 135, 2, 0), // NS
    op(BpfOp.JumpIfEqual, 136, 1, 0), // NA: the target is at the same offset
    op(BpfOp.Return, 0),
    op(BpfOp.LoadLength),
    op(BpfOp.JumpIfGreaterOrEqual, 78, 1, 0),
    op(BpfOp.Return, ACCEPT), // short NS or NA: malformed, for userspace to count
  ];
  for (const address of ipv6) {
    const [w0, w1, w2, w3] = ipv6Words(address) as [number, number, number, number];
    ns.push(
      op(BpfOp.LoadWordAbsolute, 62),
      op(BpfOp.JumpIfEqual, w0, 0, 7),
      op(BpfOp.LoadWordAbsolute, 66),
      op(BpfOp.JumpIfEqual, w1, 0, 5),
      op(BpfOp.LoadWordAbsolute, 70),
      op(BpfOp.JumpIfEqual, w2, 0, 3),
      op(BpfOp.LoadWordAbsolute, 74),
      op(BpfOp.JumpIfEqual, w3, 0, 1),
      op(BpfOp.Return, ACCEPT),
    );
  }
  ns.push(op(BpfOp.Return, 0));
  const head: BpfInstruction[] = [
    op(BpfOp.LoadHalfAbsolute, 12),
    op(BpfOp.JumpIfEqual, 0x0806, 0, 1),
    op(BpfOp.JumpAlways, 5), // → ARP block at 8
    op(BpfOp.JumpIfEqual, 0x86dd, 0, 1),
    op(BpfOp.JumpAlways, 3 + arp.length), // → NS/NA block
    op(BpfOp.JumpIfEqual, MEMBERSHIP_ETHERTYPE, 0, 1),
    op(BpfOp.Return, ACCEPT),
    op(BpfOp.Return, 0),
  ];
  const program = [...head, ...arp, ...ns];
  return program.length <= BPF_MAX_INSTRUCTIONS ? program : undefined;
}

/** What a program may read besides its packet (see {@link SKF_NET_OFF}), for {@link runBpf}. */
export interface BpfContext {
  /** The network header and what follows (a UDP socket's filter sees the packet from UDP on). */
  readonly network?: Uint8Array;
  /** The kernel's random number for SKF_AD_RANDOM (a 32-bit unsigned integer). */
  readonly random?: () => number;
}

/** `size` bytes at the (possibly special, see SKF_NET_OFF) offset `k`, big-endian; undefined when out of bounds. */
function load(packet: Uint8Array, context: BpfContext, k: number, size: 1 | 2 | 4): number | undefined {
  const offset = k | 0; // the kernel reads k as a signed 32-bit offset
  if (size === 4 && offset === SKF_AD_RANDOM_OFFSET) return (context.random?.() ?? 0) >>> 0;
  let bytes = packet;
  let at = offset;
  if (offset < 0) {
    if (offset < SKF_NET_OFF || !context.network) return undefined;
    bytes = context.network;
    at = offset - SKF_NET_OFF;
  }
  if (at + size > bytes.length) return undefined;
  let value = 0;
  for (let i = 0; i < size; i++) value = value * 256 + bytes[at + i]!;
  return value;
}

/** Interpreter for the subset above, so the filter's logic is tested without a kernel. */
export function runBpf(
  program: readonly BpfInstruction[],
  packet: Uint8Array,
  context: BpfContext = {},
): number {
  let accumulator = 0;
  for (let pc = 0; pc < program.length; ) {
    const instruction = program[pc]!;
    switch (instruction.code) {
      case BpfOp.LoadHalfAbsolute:
      case BpfOp.LoadByteAbsolute:
      case BpfOp.LoadWordAbsolute: {
        const size =
          instruction.code === BpfOp.LoadByteAbsolute
            ? 1
            : instruction.code === BpfOp.LoadHalfAbsolute
              ? 2
              : 4;
        const value = load(packet, context, instruction.k, size);
        if (value === undefined) return 0; // out of bounds aborts with 0, as in the kernel
        accumulator = value;
        pc++;
        break;
      }
      case BpfOp.AndConstant:
        accumulator = (accumulator & instruction.k) >>> 0;
        pc++;
        break;
      case BpfOp.LoadLength:
        accumulator = packet.length;
        pc++;
        break;
      case BpfOp.JumpAlways:
        pc += 1 + instruction.k;
        break;
      case BpfOp.JumpIfEqual:
        pc += 1 + (accumulator === instruction.k >>> 0 ? instruction.jt : instruction.jf);
        break;
      case BpfOp.JumpIfGreaterOrEqual:
        pc += 1 + (accumulator >= instruction.k >>> 0 ? instruction.jt : instruction.jf);
        break;
      case BpfOp.Return:
        return instruction.k;
      default:
        throw new Error(`runBpf: opcode 0x${instruction.code.toString(16)} not supported`);
    }
  }
  return 0;
}
