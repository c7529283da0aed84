import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyOpening, OPENING_BYTES } from './opening.ts';

const bytes = (text: string) => Buffer.from(text, 'latin1');

describe('classifyOpening', () => {
  it('a handshake record is TLS from its first byte', () => {
    assert.equal(classifyOpening(Uint8Array.of(0x16)), 'tls');
    assert.equal(classifyOpening(Uint8Array.of(0x16, 0x03, 0x01, 0x02, 0x00)), 'tls');
  });

  it('a request line is plain HTTP, whatever the method', () => {
    for (const line of ['GET / HTTP/1.1\r\n', 'POST /api', 'OPTIONS *', 'PATCH /x', 'CONNECT h:443'])
      assert.equal(classifyOpening(bytes(line)), 'http', line);
  });

  it('waits while what came could still be a method', () => {
    assert.equal(classifyOpening(new Uint8Array()), 'undecided');
    assert.equal(classifyOpening(bytes('G')), 'undecided');
    assert.equal(classifyOpening(bytes('OPTIONS')), 'undecided');
    assert.equal(classifyOpening(bytes('GE')), 'undecided');
  });

  it('anything else is neither, decided within OPENING_BYTES', () => {
    for (const text of ['\x00\x01garbage', ' GET /', 'get / HTTP/1.1', 'GET\t/', '\x15\x03\x03', 'SSH-2.0-x'])
      assert.equal(classifyOpening(bytes(text)), 'other', JSON.stringify(text));
    const letters = bytes('A'.repeat(OPENING_BYTES * 4));
    assert.equal(classifyOpening(letters.subarray(0, OPENING_BYTES)), 'other');
    assert.equal(classifyOpening(letters), 'other');
  });
});
