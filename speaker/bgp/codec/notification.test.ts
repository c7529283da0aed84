import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BgpMessageError } from './errors.ts';
import { decodeMessage, encodeMessage, encodeNotification, notificationFor } from './message.ts';
import type { CodecContext, NotificationMessage } from './types.ts';
import { DEFAULT_CONTEXT } from './types.ts';

const EXTENDED: CodecContext = { fourOctetAs: true, extendedMessage: true };

describe('encoding a NOTIFICATION never throws: its data is cut to the session maximum', () => {
  it('the answer to a malformed 65,535-octet ROUTE-REFRESH (RFC 7313 §5 data: the whole message)', () => {
    const refresh = new Uint8Array(65535).fill(0xff);
    refresh[16] = 0xff;
    refresh[17] = 0xff;
    refresh[18] = 5;
    let error: BgpMessageError | undefined;
    try {
      decodeMessage(refresh, EXTENDED);
    } catch (e) {
      if (e instanceof BgpMessageError) error = e;
    }
    assert.ok(error, 'the ROUTE-REFRESH is rejected');
    assert.deepStrictEqual([error.code, error.subcode, error.data.length], [7, 1, 65535]);
    const wire = encodeMessage(notificationFor(error), EXTENDED);
    assert.equal(wire.length, 65535, 'RFC 8654: the largest message the session carries');
    const sent = decodeMessage(wire, EXTENDED) as NotificationMessage;
    assert.deepStrictEqual([sent.code, sent.subcode, sent.data.length], [7, 1, 65535 - 21]);
    assert.deepStrictEqual(sent.data, error.data.subarray(0, 65535 - 21), 'the leading octets of the data');
    // Without extended messages negotiated: 4,096.
    assert.equal(encodeNotification(notificationFor(error)).length, 4096);
    assert.equal(encodeMessage(notificationFor(error), DEFAULT_CONTEXT).length, 4096);
  });

  it('any code, subcode and data length encode within the limit and decode back', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 70_000 }),
        fc.boolean(),
        (code, subcode, dataLength, extendedMessage) => {
          const context: CodecContext = { fourOctetAs: true, extendedMessage };
          const data = new Uint8Array(dataLength).fill(7);
          const wire = encodeMessage({ type: 'notification', code, subcode, data }, context);
          const max = extendedMessage ? 65535 : 4096;
          assert.equal(wire.length, Math.min(max, 21 + dataLength));
          const back = decodeMessage(wire, context) as NotificationMessage;
          assert.deepStrictEqual(
            [back.code, back.subcode, back.data.length],
            [code, subcode, wire.length - 21],
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});
