import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { describe, it } from 'node:test';
import { formatSockets, rssPartsMb, socketKinds, speakerDetail } from './footprint-read.ts';

describe('rssPartsMb', () => {
  it('splits VmRSS into RssAnon and RssFile', () => {
    const status = [
      'Name:\tnode',
      'VmRSS:\t   84736 kB',
      'RssAnon:\t   39832 kB',
      'RssFile:\t   46904 kB',
      'RssShmem:\t       0 kB',
    ].join('\n');
    assert.deepEqual(rssPartsMb(status), { rss: 82.75, anon: 38.8984375, file: 45.8046875 });
  });

  it('throws without the lines (a kernel before 4.5) instead of reporting 0', () => {
    assert.throws(() => rssPartsMb('VmRSS:\t 100 kB\n'), /RssAnon/);
  });
});

// Rows as Linux 6.x prints them (header first; inode in column 10 of tcp/udp, 9 of packet, 7 of unix).
const tcp = [
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
  '   0: 00000000:1D31 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1001 1 0000000000000000 100 0 0 10 0',
  '   1: 0100007F:C350 0100007F:01BB 01 00000000:00000000 02:00000A3C 00000000     0        0 1002 2 0000000000000000 20 4 30 10 -1',
  '   2: 0100007F:C352 0100007F:01BB 01 00000000:00000000 02:00000A3C 00000000     0        0 1003 2 0000000000000000 20 4 30 10 -1',
  '   3: 0A000002:B3D2 0A000001:00B3 01 00000000:00000000 02:00000A3C 00000000     0        0 1004 2 0000000000000000 20 4 30 10 -1',
  '   4: 0100007F:C354 0100007F:01BB 06 00000000:00000000 03:00000A3C 00000000     0        0 1005 2 0000000000000000 20 4 30 10 -1',
  // Another process's connection in the same namespace: not ours.
  '   5: 0100007F:C356 0100007F:01BB 01 00000000:00000000 02:00000A3C 00000000     0        0 9999 2 0000000000000000 20 4 30 10 -1',
].join('\n');
const udp = [
  '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops',
  '  100: 00000000:0EC8 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 2001 2 0000000000000000 0',
].join('\n');
const packet = [
  'sk       RefCnt Type Proto  Iface R Rmem   User   Inode',
  'ffff8881 3      3    0806   2     1 0      0      3001',
].join('\n');

describe('socketKinds', () => {
  it('counts the process own sockets by kind, established TCP by remote port', () => {
    const fds = [
      '/dev/null',
      'anon_inode:[eventpoll]',
      ...[1001, 1002, 1003, 1004, 1005, 2001, 3001, 4001].map((i) => `socket:[${i}]`),
    ];
    const kinds = socketKinds(fds, { tcp, udp, packet, tcp6: '' });
    assert.deepEqual(
      [...kinds],
      [
        ['packet', 1],
        ['tcp listen', 1],
        ['tcp other', 1],
        ['tcp to :179', 1],
        ['tcp to :443', 2],
        ['udp', 1],
        ['unknown', 1],
      ],
    );
    assert.equal(
      formatSockets(kinds),
      '8 sockets (packet 1, tcp listen 1, tcp other 1, tcp to :179 1, tcp to :443 2, udp 1, unknown 1)',
    );
  });

  it('an inode listed twice (a table read twice) counts once', () => {
    assert.deepEqual([...socketKinds(['socket:[1002]'], { tcp, tcp6: tcp })], [['tcp to :443', 1]]);
  });
});

describe('speakerDetail', () => {
  it("reads this process: its listener and its connection to the listener's port", async () => {
    const server = net.createServer(() => {});
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as net.AddressInfo).port;
    const client = net.connect(port, '127.0.0.1');
    await once(client, 'connect');
    try {
      const detail = speakerDetail(process.pid);
      assert.match(detail, /^anon \d+\.\d \+ file \d+\.\d MB, \d+ threads, \d+ sockets \(/);
      assert.match(detail, new RegExp(`tcp to :${port} 1[,)]`));
      assert.match(detail, /tcp listen 1[,)]/);
    } finally {
      client.destroy();
      server.close();
    }
  });
});
