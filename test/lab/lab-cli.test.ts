import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { listNamespaces } from '../../lab/netns.ts';
import { LAB_RUN_DIR, processStartTime, writeLabState } from '../../lab/state.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';

const BIN = fileURLToPath(new URL('../../bin/metalbeacon.js', import.meta.url));
const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** Runs `metalbeacon ARGS` to completion (optionally as another user) and returns its output. */
function run(
  args: readonly string[],
  options: { uid?: number; onStdout?: (text: string, child: ReturnType<typeof spawn>) => void } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const argv = [process.execPath, BIN, ...args];
  const [file, ...rest] =
    options.uid === undefined
      ? argv
      : ['setpriv', `--reuid=${options.uid}`, `--regid=${options.uid}`, '--clear-groups', ...argv];
  // Own process group, like a command started from a shell, so a test can "press Ctrl-C" (SIGINT to the group).
  const child = spawn(file!, rest, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    options.onStdout?.(stdout, child);
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

/** Runs one shell command from the repository root; its output and exit code (killed after `timeoutMs`). */
function sh(command: string, timeoutMs = 30_000): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', command], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

interface HintRun {
  command: string;
  code: number | null;
  output: string;
}

/**
 * Runs every command a kept lab printed after "Try:" as a user would paste it: one shell
 * command from the repository root, one after the other (the cable cut last, as printed).
 */
async function runHints(report: string): Promise<HintRun[]> {
  const block = report.slice(report.indexOf('Try:\n') + 'Try:\n'.length);
  const commands = block
    .split('\n')
    .filter((line) => line.startsWith('  ') && !line.trimStart().startsWith('#'))
    .map((line) => line.trim());
  assert.ok(commands.length >= 8, `hints found: ${commands.join(' | ')}`);
  const ran: HintRun[] = [];
  for (const command of commands) ran.push({ command, ...(await sh(command, 60_000)) });
  return ran;
}

/** Waits for the kept lab's Service `name` to get an IP, then for the client to be answered on it. */
async function answeredOnLan(name: string): Promise<{ ip: string; body: string }> {
  const kube = `KUBECONFIG=${LAB_RUN_DIR}/labkeep/host.kubeconfig npm run -s kubectl --`;
  const ip = await waitFor(
    `an IP on Service ${name}`,
    async () => {
      const r = await sh(`${kube} get svc ${name} -o jsonpath='{.status.loadBalancer.ingress[0].ip}'`);
      return r.code === 0 && r.output.trim() !== '' ? r.output.trim() : undefined;
    },
    { intervalMs: 500 },
  );
  const body = await waitFor(
    `the client answered on ${ip}`,
    async () => {
      // nginx on the node behind the user's Service routes the path to app-a, as for the lab's own.
      const r = await sh(`exec ip netns exec labkeep-client curl -sSf --max-time 2 http://${ip}/app-a`);
      return r.code === 0 ? r.output : undefined;
    },
    { intervalMs: 500, timeoutMs: 30_000 },
  );
  return { ip, body };
}

describe('metalbeacon lab (command line)', () => {
  it('says in one line that it needs root, and how to run it', async () => {
    const r = await run(['lab'], { uid: 65534 });
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim().split('\n').length, 2, r.stderr);
    assert.match(r.stderr, /^error: metalbeacon lab needs root/);
    assert.match(r.stderr, /^hint: run it as root, e\.g\. sudo npm run metalbeacon -- lab$/m);
    assert.equal(r.stdout, '');
    const down = await run(['lab', 'down'], { uid: 65534 });
    assert.equal(down.code, 1);
    assert.match(down.stderr, /^error: metalbeacon lab down needs root\nhint: run it as root/);
  });

  it('rejects an unknown action', async () => {
    const r = await run(['lab', 'sideways']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: unknown lab action "sideways"/);
  });

  for (const [stage, pattern] of [
    ['while the namespaces are made', /network: LAN bridge/],
    ['while the speakers start', /speakers on node-1/],
  ] as const) {
    it(`Ctrl-C ${stage} removes everything and exits 130`, async () => {
      let sent = false;
      const r = await run(['lab', '--prefix', 'labint'], {
        onStdout: (text, child) => {
          if (!sent && pattern.test(text)) {
            sent = true;
            // The terminal sends SIGINT to the whole foreground process group.
            setTimeout(() => process.kill(-(child.pid ?? 0), 'SIGINT'), 150);
          }
        },
      });
      assert.ok(sent, `the stage was reached: ${r.stdout}${r.stderr}`);
      assert.equal(r.code, 130, r.stderr);
      assert.match(r.stdout, /SIGINT: stopping and removing the lab/);
      assert.match(r.stderr, /^error: interrupted; the lab was removed/);
      assert.deepEqual(await listNamespaces('labint'), []);
      assert.equal(existsSync(`${LAB_RUN_DIR}/labint`), false);
    });
  }

  it('lab down removes what a crashed run left: recorded daemons, namespaces, files', async () => {
    const prefix = 'labdown';
    assert.match((await run(['lab', 'down', '--prefix', prefix])).stdout, /nothing to clean up/);
    const dir = `${LAB_RUN_DIR}/${prefix}`;
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}/api-node-1.sock`, '');
    execFileSync('ip', ['netns', 'add', `${prefix}-node-1`]);
    execFileSync('ip', ['netns', 'add', `${prefix}-stray`]);
    // A daemon of the "crashed" run; our own child so that we reap it once lab down kills it.
    const daemon = spawn('ip', ['netns', 'exec', `${prefix}-node-1`, 'sleep', '300'], { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => daemon.on('exit', (_c, s) => resolve(s)));
    const pid = daemon.pid ?? -1;
    const startTime = await waitFor('sleep to start', () => processStartTime(pid));
    // The owner: a process that has exited (pid 1 with an impossible start time stands for it).
    writeLabState(`${dir}/state.json`, {
      prefix,
      owner: { pid: 1, startTime: -1 },
      namespaces: [`${prefix}-node-1`],
      daemons: [{ pid, startTime, argv: ['sleep', '300'] }],
      paths: [dir],
    });
    const r = await run(['lab', 'down', '--prefix', prefix]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`killed 1 leftover process\\(es\\): ${pid}`));
    assert.match(r.stdout, /deleted namespaces labdown-node-1/);
    assert.match(r.stdout, /deleted unrecorded namespaces labdown-stray/);
    assert.equal(await exited, 'SIGKILL');
    assert.deepEqual(await listNamespaces(prefix), []);
    assert.equal(existsSync(dir), false);
  });

  it('runs the whole demo: L2 (IPv4 + IPv6), BGP with ECMP over the three nodes, a timed failover; leaves nothing', async () => {
    const r = await run(['lab', '--mode', 'both', '--no-keep', '--prefix', 'labe2e']);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const report = r.stdout;
    // The client was served through the L2 IPv4 and IPv6 addresses by nginx on the node that
    // answered ARP / NDP: the path to app-a, the host b.example to app-b.
    assert.match(
      report,
      /curl (http:\/\/198\.51\.100\.\d+)\/app-a\s+-> app-a on (node-\d) \(\d+ ms\); ARP: \S+ is at \S+ \(\2\)\n.*curl -H 'Host: b\.example' \1\/ -> app-b on \2 \(\d+ ms\)$/m,
    );
    assert.match(
      report,
      /curl (http:\/\/\[2001:db8:100::[0-9a-f]+\])\/app-a\s+-> app-a on (node-\d) \(\d+ ms\); NDP: \S+ is at \S+ \(\2\)\n.*curl -H 'Host: b\.example' \1\/ -> app-b on \2 \(\d+ ms\)$/m,
    );
    assert.doesNotMatch(report, /FAILED/);
    // BGP: three paths in BIRD and three next hops in the router's kernel, for both families.
    assert.match(report, /BIRD 198\.51\.100\.\d+\/32: 3 path\(s\) via 192\.0\.2\.1[1-3]/);
    assert.match(
      report,
      /router kernel: 198\.51\.100\.\d+\/32 nexthops 192\.0\.2\.11, 192\.0\.2\.12, 192\.0\.2\.13/,
    );
    assert.match(
      report,
      /router kernel: 2001:db8:100::[0-9a-f]+\/128 nexthops 2001:db8:0:1::11, 2001:db8:0:1::12, 2001:db8:0:1::13/,
    );
    const spread = [
      ...report.matchAll(/12 x curl \S+ from the client's far-side leg, through the router: (.*)/g),
    ];
    assert.equal(spread.length, 2, report);
    for (const [, counts] of spread) {
      assert.doesNotMatch(counts ?? '', /failed/);
      const perNode = (counts ?? '').split(', ');
      assert.ok(perNode.length >= 2, `ECMP spreads requests over nodes: ${counts}`);
      for (const n of perNode) assert.match(n, /^app-a on node-\d x\d+$/, 'only app-a answers /app-a');
    }
    assert.match(
      report,
      /curl -H 'Host: b\.example' http:\/\/198\.51\.100\.\d+\/ through the router -> app-b on node-\d \(/,
    );
    assert.match(
      report,
      /curl -H 'Host: b\.example' http:\/\/\[2001:db8:100::[0-9a-f]+\]\/ through the router -> app-b on node-\d \(/,
    );
    const failover =
      /failover: (node-\d) owns [\d.]+; the client requests http:\/\/[\d.]+\/app-a \(through nginx to app-a\).*\n.*failover: served again by (node-\d) \(app-a on \2, through its nginx\) after (\d+) ms/.exec(
        report,
      );
    assert.ok(failover, report);
    assert.notEqual(failover[2], failover[1], 'another node serves after the cut');
    // The API tells the same story: a ServiceL2Status object names the new owner.
    assert.match(report, new RegExp(`ServiceL2Status objects of ingress-l2 name [^\\n]*${failover[2]}`));
    // BGP: the lab's BFDProfile takes the lost node's next hop out, far inside BIRD's 9 s hold time.
    const bgpFailover =
      /BGP failover: flows hashed to (node-\d) failed for (\d+) ms \(\d+ request\(s\)\); the router now sends [\d.]+ via (.*) \(without BFD/.exec(
        report,
      );
    assert.ok(bgpFailover, report);
    assert.equal(bgpFailover[3]!.split(', ').length, 2, 'two next hops left');
    assert.ok(!bgpFailover[3]!.includes(`192.0.2.1${bgpFailover[1]!.slice(-1)}`), 'not the lost node');
    assert.ok(Number(bgpFailover[2]) < 9000, `BFD, not the hold time: ${bgpFailover[2]} ms`);
    assert.match(report, new RegExp(`node failover: L2 ${failover[3]} ms; BGP ${bgpFailover[2]} ms`));
    assert.match(
      report,
      new RegExp(`^RESULT l2=ok bgp=ok failover=${failover[3]}ms bgp-failover=${bgpFailover[2]}ms$`, 'm'),
    );
    assert.match(report, /removed the lab/);
    assert.deepEqual(await listNamespaces('labe2e'), []);
    assert.equal(existsSync(`${LAB_RUN_DIR}/labe2e`), false);
  });

  it('--keep stays up for exploration, every hint it prints runs as printed, lab down stops it from elsewhere', async () => {
    let down: Promise<{ code: number | null; stdout: string; stderr: string }> | undefined;
    let hints: Promise<HintRun[]> | undefined;
    let userService: { ip: string; body: string } | undefined;
    const r = await run(['lab', '--keep', '--mode', 'l2', '--no-failover', '--prefix', 'labkeep'], {
      onStdout: (text) => {
        // The last hint line is the namespaces comment; then the lab waits for a signal.
        if (!hints && /\n {2}# namespaces: .*\n/.test(text)) {
          hints = runHints(text)
            .then(async (ran) => {
              userService = await answeredOnLan('web');
              return ran;
            })
            .finally(() => {
              down = run(['lab', 'down', '--prefix', 'labkeep']);
            });
        }
      },
    });
    assert.ok(hints, r.stdout);
    const ran = await hints;
    assert.ok(down, r.stdout);
    const d = await down;
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /ip netns exec labkeep-client curl http:\/\/198\.51\.100\.\d+\//);
    assert.match(r.stdout, /npm run metalbeacon -- lab down --prefix labkeep/);
    assert.match(
      r.stdout,
      /KUBECONFIG=\/run\/metalbeacon-lab\/labkeep\/host\.kubeconfig npm run -s kubectl -- get svc -A/,
    );
    for (const hint of ran) assert.equal(hint.code, 0, `${hint.command}\n${hint.output}`);
    const output = (pattern: RegExp) => ran.find((h) => pattern.test(h.command))?.output ?? '';
    assert.match(output(/kubectl -- get svc -A/), /ingress-l2\s+LoadBalancer\s+\S+\s+198\.51\.100\.\d+/);
    assert.match(output(/metalbeacon -- status/), /ingress-l2/);
    // curl's body ends the output (its progress meter, on stderr when not on a terminal, comes first).
    assert.match(
      output(/curl http:.*\/app-a /),
      /(^|\n)app-a on node-\d\n$/,
      'nginx routed the path to app-a',
    );
    assert.match(
      output(/curl -H 'Host: b\.example'/),
      /(^|\n)app-b on node-\d\n$/,
      'nginx routed the host to app-b',
    );
    assert.match(output(/nginx-node-1\/access\.log/), /"GET \/app-a HTTP\/1\.1" 200/);
    // The Service the user created with `kubectl create service loadbalancer` (a printed hint,
    // sent as protobuf) got an address of the self-assigning pool and is answered on the LAN.
    assert.equal(output(/create service loadbalancer web/).trim(), 'service/web created');
    assert.ok(userService, r.stdout);
    assert.match(userService.ip, /^198\.51\.100\.(19[2-9]|2[01]\d|22[0-3])$/);
    assert.match(userService.body, /^app-a on node-\d\n$/);
    assert.match(
      r.stdout,
      /endpoints stand-in: Service default\/web is served on port 80 by node-1, node-2, node-3/,
    );
    assert.match(r.stdout, /RESULT l2=ok bgp=skipped failover=skipped bgp-failover=skipped/);
    assert.match(r.stdout, /SIGTERM: stopping and removing the lab/);
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /a lab is running \(pid \d+\): asking it to stop\nstopped the running lab/);
    assert.deepEqual(await listNamespaces('labkeep'), []);
    assert.equal(existsSync(`${LAB_RUN_DIR}/labkeep`), false);
  });
});
