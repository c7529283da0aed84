import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { listNamespaces } from '../../lab/netns.ts';
import { isSameProcess } from '../../lab/state.ts';
import { LAB_ADDRESSES, METALBEACON_BIN, startTopology, type Topology } from '../../lab/topology.ts';
import { parseCidr, parseIp, rangeContains } from '../../shared/net/ip.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';

// The lab topology itself, without the speaker: the pieces the lab owns (LAN, routes, local
// Service routes with ARP suppressed, BIRD with ECMP into the kernel, the API path into node
// namespaces, the ingress stand-in, the controller) and a cleanup that leaves nothing behind
// (also of nginx, the ingress `metalbeacon lab` runs).
describe('lab topology', () => {
  let topo: Topology;
  before(async () => {
    topo = await startTopology({
      prefix: 'labtopo',
      manifests: [new URL('../../lab/manifests', import.meta.url).pathname],
    });
  });
  after(() => topo?.stop());

  /** Waits until the router's kernel has the route to `prefix` with a next hop per node (ECMP). */
  const routeThroughEveryNode = (family: 'IPv4' | 'IPv6', prefix: string, timeoutMs: number) =>
    waitFor(
      `${topo.nodes.length} next hops for ${prefix} in the router kernel`,
      async () => {
        const [route] = await topo.kernelRoutes(family, prefix);
        return route && route.nextHops.length === topo.nodes.length ? route : undefined;
      },
      { timeoutMs, intervalMs: 200 },
    );

  it('the client reaches every node ingress over the LAN, IPv4 and IPv6', async () => {
    for (const node of topo.nodes) {
      const v4 = await topo.curlFrom('client', `http://${node.ipv4}/`);
      assert.equal(v4.body, node.name, `${node.name} over IPv4: ${JSON.stringify(v4)}`);
      const v6 = await topo.curlFrom('client', `http://[${node.ipv6}]/`);
      assert.equal(v6.body, node.name, `${node.name} over IPv6: ${JSON.stringify(v6)}`);
    }
  });

  it('a node serves a Service IP it is sent (local route) but never answers ARP for it', async () => {
    const node2 = topo.node('node-2');
    // Static neighbour on the client: what a speaker's ARP reply would create.
    await topo.lab.ip('client', [
      'neigh',
      'replace',
      '198.51.100.5',
      'lladdr',
      node2.link.mac,
      'dev',
      'eth0',
    ]);
    const served = await topo.curlFrom('client', 'http://198.51.100.5/');
    assert.equal(served.body, 'node-2');
    await topo.lab.ip('client', [
      '-6',
      'neigh',
      'replace',
      '2001:db8:100::85',
      'lladdr',
      node2.link.mac,
      'dev',
      'eth0',
    ]);
    assert.equal((await topo.curlFrom('client', 'http://[2001:db8:100::85]/')).body, 'node-2');
    // Without a speaker nobody answers ARP / NS for another Service IP (arp_ignore / arp_announce).
    const unanswered = await topo.curlFrom('client', 'http://198.51.100.6/', { timeoutMs: 1_500 });
    assert.equal(unanswered.ok, false);
    const neighbour = await topo.lab.neighbour('client', '198.51.100.6');
    assert.equal(
      neighbour?.mac,
      undefined,
      `nobody may answer ARP for 198.51.100.6: ${JSON.stringify(neighbour)}`,
    );
    const unanswered6 = await topo.curlFrom('client', 'http://[2001:db8:100::86]/', { timeoutMs: 1_500 });
    assert.equal(unanswered6.ok, false);
  });

  it('BIRD peers with every node and merges their routes into one ECMP kernel route', async () => {
    assert.match(await topo.birdc(['show', 'status']), /Daemon is up and running/);
    // Our own BGP speaker without Kubernetes (`metalbeacon bgp`) stands in for the speakers.
    const bgp = topo.nodes.map((node) =>
      topo.lab.spawn(node.name, [
        process.execPath,
        METALBEACON_BIN,
        '--log-format',
        'json',
        'bgp',
        ...['--local-as', String(LAB_ADDRESSES.nodeAs), '--peer', LAB_ADDRESSES.router.ipv4],
        ...['--peer-as', String(LAB_ADDRESSES.routerAs), '--router-id', node.ipv4],
        ...['--announce', '198.51.100.65/32,2001:db8:100::41/128', '--drain-time', '0'],
        ...['--listen-port', '0', '--connect-retry', '1'],
      ]),
    );
    try {
      // The first wait includes the sessions coming up; IPv6 comes over the same sessions.
      const v4 = await routeThroughEveryNode('IPv4', '198.51.100.65/32', 30_000);
      assert.deepEqual([...v4.nextHops].sort(), topo.nodes.map((n) => n.ipv4).sort());
      // A covering prefix lists the routes inside it.
      const within = await topo.kernelRoutes('IPv4', '198.51.100.64/26');
      assert.deepEqual(
        within.map((r) => r.prefix),
        ['198.51.100.65/32'],
      );
      assert.deepEqual(await topo.kernelRoutes('IPv4', '198.51.100.128/26'), []);
      const [birdRoute] = await topo.birdRoutes('198.51.100.64/26');
      assert.equal(birdRoute?.prefix, '198.51.100.65/32');
      assert.deepEqual(birdRoute.paths.map((p) => p.via).sort(), topo.nodes.map((n) => n.ipv4).sort());
      assert.equal(birdRoute.paths.filter((p) => p.best).length, 1);
      const v6 = await routeThroughEveryNode('IPv6', '2001:db8:100::41/128', 15_000);
      assert.equal(v6.nextHops.length, 3);
      // From the far side, through the router: new connections spread over the nodes.
      const seen4 = new Set<string>();
      const seen6 = new Set<string>();
      for (let i = 0; i < 24 && (seen4.size < 2 || seen6.size < 2); i++) {
        const r4 = await topo.curlFrom('client', 'http://198.51.100.65/');
        assert.ok(r4.ok, `far-side IPv4 request ${i}: ${JSON.stringify(r4)}`);
        seen4.add(r4.body);
        const r6 = await topo.curlFrom('client', 'http://[2001:db8:100::41]/');
        assert.ok(r6.ok, `far-side IPv6 request ${i}: ${JSON.stringify(r6)}`);
        seen6.add(r6.body);
      }
      assert.ok(seen4.size >= 2, `IPv4 ECMP spreads over nodes: ${[...seen4]}`);
      assert.ok(seen6.size >= 2, `IPv6 ECMP spreads over nodes: ${[...seen6]}`);
      // The client's IPv4 source on that path is its far-side address: the request went through the router.
      const tuple = await topo.lab.ip('client', ['route', 'get', '198.51.100.65']);
      assert.match(tuple.stdout, /via 203\.0\.113\.1 dev eth1 src 203\.0\.113\.10/);
    } finally {
      await Promise.all(bgp.map((d) => d.stop()));
    }
  });

  it('the API server answers inside a node namespace on 127.0.0.1:6443, not after isolateFromApi', async () => {
    const get = () =>
      topo.lab.exec(
        'node-1',
        ['curl', '-sf', '--max-time', '2', 'http://127.0.0.1:6443/api/v1/nodes/node-1'],
        {
          allowFailure: true,
        },
      );
    const before = await get();
    assert.equal(before.code, 0, before.stderr);
    assert.equal((JSON.parse(before.stdout) as { metadata: { name: string } }).metadata.name, 'node-1');
    await topo.isolateFromApi('node-1');
    assert.notEqual((await get()).code, 0, 'node-1 is cut off the API server');
    const other = await topo.lab.exec('node-2', [
      'curl',
      '-sf',
      '--max-time',
      '2',
      'http://127.0.0.1:6443/version',
    ]);
    assert.match(other.stdout, /gitVersion/, 'other nodes keep the API');
    await topo.reconnectApi('node-1');
    assert.equal((await get()).code, 0, 'reconnected');
    // The programs' path: HTTPS on 127.0.0.1:443 with the server's CA and the speaker's token.
    const dir = topo.node('node-1').serviceAccountDir;
    const token = readFileSync(`${dir}/token`, 'utf8');
    const tls = (headers: string[]) =>
      topo.lab.exec(
        'node-1',
        [
          'curl',
          '-s',
          '--max-time',
          '2',
          '--cacert',
          `${dir}/ca.crt`,
          ...headers,
          '-w',
          '\n%{http_code}',
          'https://127.0.0.1/version',
        ],
        { allowFailure: true },
      );
    const withToken = await tls(['-H', `Authorization: Bearer ${token}`]);
    assert.equal(withToken.code, 0, withToken.stderr);
    assert.match(withToken.stdout, /gitVersion[\s\S]*\n200$/);
    assert.match((await tls([])).stdout, /\n401$/, 'no token: 401');
    await topo.isolateFromApi('node-1');
    assert.notEqual((await tls(['-H', `Authorization: Bearer ${token}`])).code, 0, 'HTTPS cut off too');
    await topo.reconnectApi('node-1');
    // kubectl inside the namespace with the node's kubeconfig, as a person exploring would.
    const kubectl = await topo.lab.exec(
      'node-3',
      [
        'kubectl',
        '--kubeconfig',
        topo.node('node-3').kubeconfig,
        'get',
        'pods',
        '-n',
        'metalbeacon-system',
        '-o',
        'name',
      ],
      { allowFailure: true },
    );
    assert.equal(kubectl.code, 0, kubectl.stderr);
    assert.deepEqual(kubectl.stdout.trim().split('\n').sort(), [
      'pod/speaker-node-1',
      'pod/speaker-node-2',
      'pod/speaker-node-3',
    ]);
  });

  it('the controller assigns IPs from the lab pools to ingress Services', async () => {
    await topo.startController();
    topo.createIngressService('web-dual', { pool: 'lab-dual', families: ['IPv4', 'IPv6'] });
    topo.createIngressService('web-bgp', { pool: 'lab-bgp', endpointNodes: ['node-1', 'node-3'] });
    const dual = await topo.waitForServiceIps('web-dual', { timeoutMs: 30_000 });
    assert.equal(dual.length, 2);
    assert.ok(
      dual.some((ip) => within(ip, '198.51.100.128/26')),
      `IPv4 from lab-dual: ${dual}`,
    );
    assert.ok(
      dual.some((ip) => within(ip, '2001:db8:100::80/122')),
      `IPv6 from lab-dual: ${dual}`,
    );
    const bgpIps = await topo.waitForServiceIps('web-bgp');
    assert.equal(bgpIps.length, 1);
    assert.ok(within(bgpIps[0] ?? '', '198.51.100.64/26'), `IPv4 from lab-bgp: ${bgpIps}`);
    const slice = await topo.getObject(
      '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/web-bgp-v4',
    );
    const endpoints = (slice as unknown as { endpoints: { nodeName: string }[] }).endpoints;
    assert.deepEqual(
      endpoints.map((e) => e.nodeName),
      ['node-1', 'node-3'],
    );
  });
});

function within(ip: string, cidr: string): boolean {
  const range = parseCidr(cidr);
  const value = parseIp(ip);
  return range.ok && value !== undefined && rangeContains(range.value, value);
}

describe('lab topology cleanup', () => {
  it('stop leaves no namespace, no process (nginx and its workers included), no socket or file', async () => {
    const topo = await startTopology({ prefix: 'labclean', nodes: 2, ingress: 'nginx' });
    // nginx on every node answers both routes with its own backends.
    for (const node of topo.nodes) {
      assert.equal(
        (await topo.curlFrom('client', `http://${node.ipv4}/app-a`)).body,
        `app-a on ${node.name}`,
      );
      const byHost = await topo.curlFrom('client', `http://[${node.ipv6}]/`, { host: 'b.example' });
      assert.equal(byHost.body, `app-b on ${node.name}`);
    }
    const nginxPids = topo.nodes.flatMap((n) =>
      execFileSync('ip', ['netns', 'pids', n.namespace], { encoding: 'utf8' })
        .split('\n')
        .filter((p) => /^\d+$/.test(p) && readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'nginx')
        .map(Number),
    );
    assert.equal(nginxPids.length, 4, 'a master and a worker on each node');
    const pids = [
      topo.bird,
      ...topo.nodes.flatMap((n) => [n.ingress, ...n.backends, n.apiRelay, n.apiTlsRelay]),
    ].map((d) => ({
      pid: d.pid,
      startTime: d.startTime,
    }));
    assert.ok(pids.every(isSameProcess), 'daemons run');
    assert.ok(existsSync(`${topo.runDir}/state.json`));
    assert.equal((await listNamespaces('labclean')).length, 5);
    await topo.stop();
    assert.deepEqual(await listNamespaces('labclean'), []);
    assert.deepEqual(pids.filter(isSameProcess), [], 'no daemon left');
    assert.deepEqual(
      nginxPids.filter((pid) => existsSync(`/proc/${pid}`)),
      [],
      'no nginx master or worker left',
    );
    assert.equal(
      existsSync(topo.runDir),
      false,
      'run dir (sockets, kubeconfigs, BIRD config, state) removed',
    );
  });

  it('a failure while building removes what was made', async () => {
    await assert.rejects(
      startTopology({ prefix: 'labfail', nodes: 2, manifests: ['/nonexistent/manifests.yaml'] }),
    );
    assert.deepEqual(await listNamespaces('labfail'), []);
    assert.equal(existsSync('/run/metalbeacon-lab/labfail'), false);
  });
});
