import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BgpMessageError } from './errors.ts';
import { FIXTURES, LARGE_UPDATE } from './fixtures.ts';
import { BgpFramer } from './framer.ts';
import { encodeMessage } from './message.ts';
import { concatBytes, hex, MARKER, toHex } from './test-helpers.ts';
import type { CodecContext } from './types.ts';

const KEEPALIVE = hex(`${MARKER} 0013 04`);
const FOUR: CodecContext = { fourOctetAs: true, extendedMessage: false };

describe('BgpFramer', () => {
  it('a message inside one chunk is a view of it; one across chunks is assembled once', () => {
    const chunk = concatBytes([KEEPALIVE, KEEPALIVE]);
    const framer = new BgpFramer();
    const frames = [...framer.frames(chunk)];
    assert.equal(frames.length, 2);
    for (const f of frames) assert.equal(f.buffer, chunk.buffer, 'no copy');
    const split = [...framer.frames(KEEPALIVE.subarray(0, 7)), ...framer.frames(KEEPALIVE.subarray(7))];
    assert.equal(split.length, 1);
    assert.notEqual(split[0]!.buffer, KEEPALIVE.buffer);
    assert.equal(toHex(split[0]!), toHex(KEEPALIVE));
  });

  it('holds what is pending and nothing more once a message completes', () => {
    const framer = new BgpFramer();
    assert.deepStrictEqual([...framer.frames(KEEPALIVE.subarray(0, 5))], []);
    assert.equal(framer.pendingBytes, 5);
    assert.deepStrictEqual([...framer.frames(KEEPALIVE.subarray(5, 18))], []);
    assert.equal(framer.pendingBytes, 18);
    assert.equal([...framer.frames(KEEPALIVE.subarray(18))].length, 1);
    assert.equal(framer.pendingBytes, 0);
  });

  it('rejects a bad header at its 19th octet when it arrives one octet at a time', () => {
    const bad = hex(`${MARKER} 1001 02`); // length 4097 without extended messages
    const framer = new BgpFramer();
    for (let i = 0; i < 18; i++) assert.deepStrictEqual([...framer.frames(bad.subarray(i, i + 1))], []);
    assert.throws(
      () => [...framer.frames(bad.subarray(18))],
      (e: unknown) =>
        e instanceof BgpMessageError && e.code === 1 && e.subcode === 2 && toHex(e.data) === '1001',
    );
  });

  it('a consumer that stops early finds the rest of the chunk on the next call', () => {
    const framer = new BgpFramer();
    const three = concatBytes([KEEPALIVE, KEEPALIVE, KEEPALIVE]);
    for (const _ of framer.frames(three)) break;
    assert.equal(framer.pendingBytes, 38);
    assert.equal([...framer.frames(new Uint8Array(0))].length, 2);
    assert.equal(framer.pendingBytes, 0);
  });

  it('keeps arrival order when a result is iterated only after the next chunk came', () => {
    const framer = new BgpFramer();
    const first = framer.frames(KEEPALIVE.subarray(0, 10));
    const second = framer.frames(KEEPALIVE.subarray(10));
    const third = framer.frames(concatBytes([KEEPALIVE, KEEPALIVE.subarray(0, 3)]));
    const frames = [...third, ...second, ...first];
    assert.deepStrictEqual(
      frames.map((f) => toHex(f)),
      [toHex(KEEPALIVE), toHex(KEEPALIVE)],
    );
    assert.equal(framer.pendingBytes, 3);
  });

  it('reads the messages after OPEN with the context set in between (extended messages)', () => {
    const open = FIXTURES.find((f) => f.message.type === 'open')!.bytes;
    const extended: CodecContext = { ...FOUR, extendedMessage: true };
    const bigBytes = encodeMessage(LARGE_UPDATE, extended);
    for (const cut of [open.length + 10, open.length + 5000, open.length + bigBytes.length]) {
      const stream = concatBytes([open, bigBytes]);
      const framer = new BgpFramer();
      const got = [];
      for (const chunk of [stream.subarray(0, cut), stream.subarray(cut)]) {
        for (const message of framer.push(chunk)) {
          got.push(message.type);
          if (message.type === 'open') framer.setContext(extended);
        }
      }
      assert.deepStrictEqual(got, ['open', 'update'], `cut at ${cut}`);
    }
  });

  it('yields the same frames however the stream is cut, down to single octets', () => {
    const all = FIXTURES.filter((f) => f.context.fourOctetAs);
    const stream = concatBytes(all.map((f) => f.bytes));
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 200 }), (sizes) => {
        const framer = new BgpFramer(FOUR);
        const frames: string[] = [];
        let at = 0;
        for (let i = 0; at < stream.length; i++) {
          const size = sizes[i % sizes.length]!;
          for (const f of framer.frames(stream.subarray(at, at + size))) frames.push(toHex(f));
          at += size;
        }
        assert.deepStrictEqual(
          frames,
          all.map((f) => toHex(f.bytes)),
        );
        assert.equal(framer.pendingBytes, 0);
      }),
      { numRuns: 300 },
    );
  });
});
