import { Limits } from './constants.ts';
import { checkHeader, decodeMessage, maxMessageLength } from './message.ts';
import type { BgpMessage, CodecContext } from './types.ts';
import { DEFAULT_CONTEXT } from './types.ts';

/**
 * Turns TCP chunks into whole BGP messages (like pg-protocol's parser): it holds partial
 * messages across chunks and never touches a socket. The context may change between messages
 * (after OPEN the session knows about 4-octet AS and extended messages), so `push` is a
 * generator read lazily: set the context, then keep iterating.
 *
 * Cost is linear in the octets received however the peer cuts them: a message inside one
 * chunk is a view of it; one that spans chunks is copied once into a buffer of its length,
 * allocated when its header is in, so nothing held is ever copied again and at most one
 * message (64 KiB) is held per session.
 */
export class BgpFramer {
  private context: CodecContext;
  /** The message being assembled (its header's length, or 19 octets until the header is in). */
  private partial: Uint8Array | undefined;
  private filled = 0;
  /** The header of `partial` was checked (it is the whole message's buffer). */
  private sized = false;
  /** Chunks to read; more than the current one only after a consumer stopped iterating early. */
  private readonly queue: Uint8Array[] = [];

  constructor(context: CodecContext = DEFAULT_CONTEXT) {
    this.context = context;
  }

  /** Changes how the following messages are decoded (capabilities negotiated). */
  setContext(context: CodecContext): void {
    this.context = context;
  }

  /** Octets waiting for the rest of their message. */
  get pendingBytes(): number {
    return (this.partial ? this.filled : 0) + this.queue.reduce((sum, chunk) => sum + chunk.length, 0);
  }

  /**
   * Whole raw messages (header included) in the chunk plus what was held. The chunk is taken
   * at once; the messages are cut as they are iterated.
   */
  frames(chunk: Uint8Array): Iterable<Uint8Array> {
    return this.take(chunk) ? NOTHING : this.drain();
  }

  /** Decoded messages from a chunk; throws BgpMessageError on the first malformed one. */
  push(chunk: Uint8Array): Iterable<BgpMessage> {
    return this.take(chunk) ? NOTHING : this.decode();
  }

  /** Takes a chunk in arrival order; true when it completes nothing (absorbed whole). */
  private take(chunk: Uint8Array): boolean {
    if (this.absorb(chunk)) return true;
    if (chunk.length > 0) this.queue.push(chunk);
    return false;
  }

  /**
   * Takes a chunk that completes nothing straight into the message being assembled: the common
   * case of a message arriving in pieces costs a copy, no iterator.
   */
  private absorb(chunk: Uint8Array): boolean {
    const partial = this.partial;
    if (!partial || this.queue.length > 0 || this.filled + chunk.length >= partial.length) return false;
    this.fill(chunk, 0);
    return true;
  }

  private *drain(): Generator<Uint8Array> {
    while (this.queue.length > 0) yield* this.read(this.queue.shift()!);
  }

  private *decode(): Generator<BgpMessage> {
    for (const frame of this.drain()) yield decodeMessage(frame, this.context);
  }

  private *read(chunk: Uint8Array): Generator<Uint8Array> {
    let at = 0;
    try {
      while (at < chunk.length) {
        if (this.partial) {
          at = this.fill(chunk, at);
          if (this.filled < this.partial.length) return;
          if (!this.sized) {
            this.size(this.partial);
            if (this.filled < this.partial.length) continue;
          }
          const frame = this.partial;
          this.partial = undefined;
          yield frame;
          continue;
        }
        const left = chunk.length - at;
        if (left < Limits.HeaderLength) {
          this.start(new Uint8Array(Limits.HeaderLength), false);
          continue;
        }
        // Checked as soon as the header is in: a bad length must not make us wait for 64 KiB.
        const length = checkHeader(chunk, at, maxMessageLength(this.context));
        if (left < length) {
          this.start(new Uint8Array(length), true);
          continue;
        }
        const frame = chunk.subarray(at, at + length);
        at += length;
        yield frame;
      }
    } finally {
      // A consumer that stopped early (or a header error) leaves the rest for the next call.
      if (at < chunk.length && this.partial === undefined) this.queue.unshift(chunk.subarray(at));
    }
  }

  private start(buffer: Uint8Array, sized: boolean): void {
    this.partial = buffer;
    this.filled = 0;
    this.sized = sized;
  }

  /** Copies what the partial message still needs from the chunk; returns the new position. */
  private fill(chunk: Uint8Array, at: number): number {
    const partial = this.partial!;
    const count = Math.min(partial.length - this.filled, chunk.length - at);
    if (count <= 16) {
      // Tiny pieces are copied octet by octet: cheaper than a view and a bulk copy each.
      for (let i = 0; i < count; i++) partial[this.filled + i] = chunk[at + i]!;
    } else partial.set(count === chunk.length ? chunk : chunk.subarray(at, at + count), this.filled);
    this.filled += count;
    return at + count;
  }

  /** The 19 header octets are in: check them and move them into a buffer of the message's length. */
  private size(header: Uint8Array): void {
    const length = checkHeader(header, 0, maxMessageLength(this.context));
    const message = new Uint8Array(length);
    message.set(header);
    this.start(message, true);
    this.filled = Limits.HeaderLength;
  }
}

/** What a chunk that completes no message yields. */
const NOTHING: readonly never[] = [];
