import { Limits } from './constants.ts';
import { checkHeader, decodeMessage, maxMessageLength } from './message.ts';
import type { BgpMessage, CodecContext } from './types.ts';
import { DEFAULT_CONTEXT } from './types.ts';

/**
 * Turns TCP chunks into whole BGP messages (like pg-protocol's parser): it buffers partial
 * messages across chunks and never touches a socket. The context may change between messages
 * (after OPEN the session knows about 4-octet AS and extended messages), so `push` is a
 * generator read lazily: set the context, then keep iterating.
 */
export class BgpFramer {
  private buffer: Uint8Array = new Uint8Array(0);
  private context: CodecContext;

  constructor(context: CodecContext = DEFAULT_CONTEXT) {
    this.context = context;
  }

  /** Changes how the following messages are decoded (capabilities negotiated). */
  setContext(context: CodecContext): void {
    this.context = context;
  }

  /** Octets waiting for the rest of their message. */
  get pendingBytes(): number {
    return this.buffer.length;
  }

  /** Whole raw messages (header included) in the chunk plus what was buffered. */
  *frames(chunk: Uint8Array): Generator<Uint8Array> {
    let data = chunk;
    if (this.buffer.length > 0) {
      data = new Uint8Array(this.buffer.length + chunk.length);
      data.set(this.buffer, 0);
      data.set(chunk, this.buffer.length);
    }
    let at = 0;
    try {
      while (data.length - at >= Limits.HeaderLength) {
        // Checked as soon as the header is in: a bad length must not make us wait for 64 KiB.
        const length = checkHeader(data, at, maxMessageLength(this.context));
        if (data.length - at < length) break;
        const frame = data.subarray(at, at + length);
        at += length;
        yield frame;
      }
    } finally {
      this.buffer = at === data.length ? new Uint8Array(0) : data.slice(at);
    }
  }

  /** Decoded messages from a chunk; throws BgpMessageError on the first malformed one. */
  *push(chunk: Uint8Array): Generator<BgpMessage> {
    for (const frame of this.frames(chunk)) yield decodeMessage(frame, this.context);
  }
}
