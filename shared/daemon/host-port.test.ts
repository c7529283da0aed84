import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatHostPort, HostPortError, parseHostPort } from './host-port.ts';

describe('parseHostPort', () => {
  it('reads host names, IPv4, bracketed IPv6 (with a zone) or IPv4 and an empty host', () => {
    const table: [string, { host: string | undefined; port: number }][] = [
      ['127.0.0.1:7472', { host: '127.0.0.1', port: 7472 }],
      ['0.0.0.0:0', { host: '0.0.0.0', port: 0 }],
      ['localhost:65535', { host: 'localhost', port: 65535 }],
      ['node-1.example:80', { host: 'node-1.example', port: 80 }],
      ['[::1]:7473', { host: '::1', port: 7473 }],
      ['[2001:db8::7]:179', { host: '2001:db8::7', port: 179 }],
      ['[fe80::1%eth0]:9', { host: 'fe80::1%eth0', port: 9 }],
      ['[::ffff:192.0.2.1]:1', { host: '::ffff:192.0.2.1', port: 1 }],
      // The manifests' `[$(HOST_IP)]:7473`: the downward API's address may be of either family.
      ['[192.0.2.11]:7473', { host: '192.0.2.11', port: 7473 }],
      [':7472', { host: undefined, port: 7472 }],
    ];
    for (const [text, want] of table) assert.deepEqual(parseHostPort(text), want, text);
  });

  it('refuses what is not HOST:PORT, naming the text and why', () => {
    const table: [string, RegExp][] = [
      ['nowhere', /^"nowhere" is not HOST:PORT$/],
      ['', /^"" is not HOST:PORT$/],
      ['127.0.0.1:', /^"127\.0\.0\.1:" is not HOST:PORT$/],
      ['127.0.0.1:http', /is not HOST:PORT$/],
      ['127.0.0.1:-1', /is not HOST:PORT$/],
      ['127.0.0.1:+80', /is not HOST:PORT$/],
      ['127.0.0.1:1e3', /is not HOST:PORT$/],
      ['127.0.0.1:123456', /is not HOST:PORT$/],
      ['127.0.0.1:65536', /port 65536 is out of range 0\.\.65535$/],
      ['127.0.0.1:99999', /port 99999 is out of range/],
      ['::1:7472', /an IPv6 address needs brackets/],
      ['[::1:7472', /unbalanced brackets/],
      ['::1]:7472', /unbalanced brackets/],
      ['[]:80', /brackets must hold an IP address/],
      ['[node.example]:80', /brackets must hold an IP address/],
      ['[192.0.2.256]:80', /brackets must hold an IP address/],
      ['[192.0.2]:80', /brackets must hold an IP address/],
      ['[::1]x:80', /unbalanced brackets/],
      ['bad host:80', /bad host "bad host"/],
      ['a/b:80', /bad host/],
    ];
    for (const [text, message] of table) {
      assert.throws(
        () => parseHostPort(text),
        (error: unknown) =>
          error instanceof HostPortError &&
          error.code === 'ERR_HOST_PORT' &&
          error.text === text &&
          message.test(error.message),
        text,
      );
    }
  });

  it('formats IPv6 in brackets, so that format and parse agree', () => {
    assert.equal(formatHostPort('::', 7472), '[::]:7472');
    assert.equal(formatHostPort('192.0.2.1', 80), '192.0.2.1:80');
    for (const [host, port] of [
      ['2001:db8::1', 0],
      ['192.0.2.1', 65535],
    ] as const) {
      assert.deepEqual(parseHostPort(formatHostPort(host, port)), { host, port });
    }
  });
});
