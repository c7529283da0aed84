import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blockPeer, PORT_BLOCK_TABLE, PORT_UNBLOCK_ARGS, portBlockScript } from './port-block.ts';

describe('membership port block', () => {
  it('drops only UDP to the port from the peer, both families, in a table of its own', () => {
    const script = portBlockScript({ ipv4: '192.0.2.12', ipv6: '2001:db8:0:1::12' }, 7951);
    assert.equal(
      script,
      [
        `add table inet ${PORT_BLOCK_TABLE}`,
        `add chain inet ${PORT_BLOCK_TABLE} input { type filter hook input priority 0 ; }`,
        `add rule inet ${PORT_BLOCK_TABLE} input ip saddr 192.0.2.12 udp dport 7951 drop`,
        `add rule inet ${PORT_BLOCK_TABLE} input ip6 saddr 2001:db8:0:1::12 udp dport 7951 drop`,
      ].join(' ; '),
    );
    const statements = script.split(' ; ').filter((x) => x.startsWith('add rule'));
    // Every rule is a drop of UDP to the port from the peer: the LAN keeps everything else.
    assert.equal(statements.length, 2);
    for (const rule of statements) assert.match(rule, /saddr \S+ udp dport 7951 drop$/);
    assert.deepEqual([...PORT_UNBLOCK_ARGS], ['delete', 'table', 'inet', PORT_BLOCK_TABLE]);
  });

  it('refuses what would not be an address or a port, so no other text reaches nft', () => {
    const ok = { ipv4: '192.0.2.12', ipv6: '2001:db8:0:1::12' };
    assert.throws(() => portBlockScript(ok, 0), /port 0 is not 1-65535/);
    assert.throws(() => portBlockScript(ok, 70_000), /port 70000/);
    assert.throws(() => portBlockScript(ok, 1.5), /port 1.5/);
    assert.throws(
      () => portBlockScript({ ...ok, ipv4: '192.0.2.12 ; flush ruleset' }, 7951),
      /peer ipv4 "192.0.2.12 ; flush ruleset" is not an IPv4 address/,
    );
    assert.throws(() => portBlockScript({ ...ok, ipv4: '2001:db8::1' }, 7951), /not an IPv4/);
    assert.throws(() => portBlockScript({ ...ok, ipv6: '192.0.2.12' }, 7951), /peer ipv6 .* not an IPv6/);
  });

  it('the peer: one of the other nodes by name, chosen by the index', () => {
    const nodes = ['node-3', 'node-1', 'node-2'];
    assert.equal(blockPeer('node-1', nodes, 0), 'node-2');
    assert.equal(blockPeer('node-1', nodes, 1), 'node-3');
    assert.equal(blockPeer('node-2', nodes, 0), 'node-1');
    assert.equal(blockPeer('node-2', nodes, 1), 'node-3');
    assert.equal(blockPeer('node-2', nodes, 2), 'node-1', 'modulo the number of others');
    assert.equal(blockPeer('node-1', ['node-1'], 0), undefined);
  });
});
