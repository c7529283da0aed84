import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { APP_A, APP_B } from '../../lab/ingress-apps.ts';
import { INGRESS_SERVER, startNginxIngress } from '../../lab/ingress-nginx.ts';
import { type Lab, waitForOutput } from '../../lab/netns.ts';
import { isSameProcess } from '../../lab/state.ts';
import { startLan } from '../support/lan.ts';

const RUN_DIR = '/run/metalbeacon-lab/labnginx';

// Debian's nginx in a node namespace as the lab runs it: routing by path and by host to the two
// backends, everything it writes in the lab's directory, stopped by the master's PID, and a
// clear error (nginx's own words) when its configuration or its start fails.
describe('nginx ingress in a node namespace', () => {
  let lab: Lab;
  before(async () => {
    ({ lab } = await startLan('labnginx', {
      client: { ipv4: '192.0.2.10/24', ipv6: '2001:db8:0:1::10/64' },
      'node-1': { ipv4: '192.0.2.11/24', ipv6: '2001:db8:0:1::11/64' },
      'node-2': { ipv4: '192.0.2.12/24', ipv6: '2001:db8:0:1::12/64' },
    }));
    lab.track(RUN_DIR);
  });
  after(() => lab?.destroy());

  /** The processes in a node namespace (asked from the host: a command run inside would count itself). */
  const pidsIn = (node: string): string[] =>
    execFileSync('ip', ['netns', 'pids', lab.ns(node)], { encoding: 'utf8' })
      .split('\n')
      .filter((p) => /^\d+$/.test(p));

  const curl = async (url: string, host?: string) => {
    const header = host === undefined ? [] : ['-H', `Host: ${host}`];
    const r = await lab.exec(
      'client',
      ['curl', '-sg', '--max-time', '2', ...header, '-w', '\n%{http_code}', url],
      {
        allowFailure: true,
      },
    );
    const lines = r.stdout.trim().split('\n');
    return { status: Number(lines.pop()), body: lines.join('\n').trim() };
  };

  it('routes /app-a to app-a and Host b.example to app-b over IPv4 and IPv6; other requests get its 404', async () => {
    const dir = `${RUN_DIR}/nginx-node-1`;
    const served = await startNginxIngress(lab, 'node-1', { dir, logDir: RUN_DIR });
    await served.ready();
    for (const base of ['http://192.0.2.11', 'http://[2001:db8:0:1::11]']) {
      assert.deepEqual(await curl(`${base}${APP_A.path}`), { status: 200, body: 'app-a on node-1' }, base);
      assert.deepEqual(await curl(`${base}/`, APP_B.host), { status: 200, body: 'app-b on node-1' }, base);
      assert.deepEqual(await curl(`${base}${APP_A.path}/deeper?x=1`, APP_B.host), {
        status: 200,
        body: 'app-b on node-1',
      });
      const other = await curl(`${base}/nothing-here`);
      assert.equal(other.status, 404);
      assert.match(other.body, /^nginx on node-1: no route for \S+\/nothing-here/);
    }
    // The master the lab spawned is nginx itself (daemon off), and it wrote only in the lab's directory.
    assert.equal(readFileSync(`${dir}/nginx.pid`, 'utf8').trim(), String(served.ingress.pid));
    assert.match(readFileSync(`${dir}/access.log`, 'utf8'), /"GET \/app-a HTTP\/1\.1" 200/);
    assert.ok(existsSync(`${dir}/tmp/proxy`), 'temp paths in the lab directory');
    const pids = [served.ingress, ...served.backends].map((d) => ({ pid: d.pid, startTime: d.startTime }));
    assert.ok(pids.every(isSameProcess));
    // Stopping by the master's PID ends nginx with its worker: nothing of it is left in the namespace.
    await served.ingress.stop();
    const comms = pidsIn('node-1').map((p) => readFileSync(`/proc/${p}/comm`, 'utf8').trim());
    assert.ok(!comms.includes('nginx'), `no nginx worker left: ${comms}`);
    assert.equal((await curl(`http://192.0.2.11${APP_A.path}`)).status, 0, 'nobody listens any more');
    await Promise.all(served.backends.map((b) => b.stop()));
  });

  it('a configuration nginx -t rejects fails with its stderr before anything starts', async () => {
    const dir = `${RUN_DIR}/nginx-bad`;
    await assert.rejects(
      startNginxIngress(lab, 'node-2', { dir, logDir: RUN_DIR, port: 70_000 }),
      (error: Error) => {
        assert.match(
          error.message,
          /^nginx on node-2: the configuration test \(nginx -t\) failed: .*invalid port in "70000".*\(config \/run\/metalbeacon-lab\/labnginx\/nginx-bad\/nginx\.conf, error log /,
        );
        return true;
      },
    );
    assert.deepEqual(pidsIn('node-2'), [], 'neither nginx nor a backend was started');
  });

  it('an nginx that cannot bind its port fails with nginx own words', async () => {
    // Something else holds port 8080 in node-2 already.
    const squatter = lab.spawn('node-2', [process.execPath, INGRESS_SERVER, 'squatter', '8080']);
    await waitForOutput(squatter, /listening/);
    const served = await startNginxIngress(lab, 'node-2', {
      dir: `${RUN_DIR}/nginx-busy`,
      logDir: RUN_DIR,
      port: 8080,
    });
    await assert.rejects(
      served.ready(10_000),
      /^Error: nginx on node-2 did not start: .*bind\(\) to .*8080 failed \(98: Address already in use\)/,
    );
    assert.notEqual(served.ingress.child.exitCode, null, 'nginx exited');
    await Promise.all([squatter, ...served.backends].map((d) => d.stop()));
  });
});
