import type { Socket } from 'node:dgram';
import { loadNative } from '../../../native/index.ts';
import { assembleBpf, type BpfInstruction } from '../../l2/bpf/bpf.ts';

/**
 * Puts the membership socket's kernel filter (../protocol/socket-filter.ts) on Node's UDP
 * socket, through its descriptor and the addon. Where either is missing (an addon not built,
 * a Node without the descriptor) there is none and the screen alone does the work.
 */
export class KernelFilter {
  readonly #fd: number;
  readonly #attach: (fd: number, program: Buffer) => void;
  #installed: Buffer | undefined;

  private constructor(fd: number, attach: (fd: number, program: Buffer) => void) {
    this.#fd = fd;
    this.#attach = attach;
  }

  /** The filter of `socket`, or why there can be none. */
  static of(socket: Socket): KernelFilter | string {
    // Node keeps the handle (with its descriptor) under a symbol; `_handle` is deprecated.
    const state = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
    const fd = (state &&
      (socket as unknown as Record<symbol, { handle?: { fd?: unknown } }>)[state]?.handle?.fd) as unknown;
    if (typeof fd !== 'number' || fd < 0) return 'the UDP socket exposes no descriptor';
    try {
      const native = loadNative();
      return new KernelFilter(fd, (descriptor, program) => native.attachSocketFilter(descriptor, program));
    } catch (error) {
      return (error as Error).message;
    }
  }

  /** Installs `program` unless it is the one in place. Throws the system error when the kernel refuses. */
  apply(program: readonly BpfInstruction[]): boolean {
    const bytes = assembleBpf(program);
    if (this.#installed?.equals(bytes)) return false;
    this.#attach(this.#fd, bytes);
    this.#installed = bytes;
    return true;
  }
}
