/**
 * Classic BPF (linux/filter.h) for the responder's packet socket: the kernel hands us ARP
 * and ICMPv6 Neighbor Solicitations only, so a busy LAN costs nothing in userspace.
 * Pure: builds bytes, opens nothing.
 */

/** Classic BPF opcodes used below (linux/bpf_common.h). */
export const BpfOp = {
  LoadHalfAbsolute: 0x28, // BPF_LD | BPF_H | BPF_ABS
  LoadByteAbsolute: 0x30, // BPF_LD | BPF_B | BPF_ABS
  JumpIfEqual: 0x15, // BPF_JMP | BPF_JEQ | BPF_K
  Return: 0x06, // BPF_RET | BPF_K
} as const;

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

/** Interpreter for the subset above, so the filter's logic is tested without a kernel. */
export function runBpf(program: readonly BpfInstruction[], packet: Uint8Array): number {
  let accumulator = 0;
  for (let pc = 0; pc < program.length; ) {
    const instruction = program[pc]!;
    switch (instruction.code) {
      case BpfOp.LoadHalfAbsolute:
        if (instruction.k + 2 > packet.length) return 0; // out of bounds aborts with 0, as in the kernel
        accumulator = (packet[instruction.k]! << 8) | packet[instruction.k + 1]!;
        pc++;
        break;
      case BpfOp.LoadByteAbsolute:
        if (instruction.k + 1 > packet.length) return 0;
        accumulator = packet[instruction.k]!;
        pc++;
        break;
      case BpfOp.JumpIfEqual:
        pc += 1 + (accumulator === instruction.k ? instruction.jt : instruction.jf);
        break;
      case BpfOp.Return:
        return instruction.k;
      default:
        throw new Error(`runBpf: opcode 0x${instruction.code.toString(16)} not supported`);
    }
  }
  return 0;
}
