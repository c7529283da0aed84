import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type ApiServerHandle, startApiServer } from '../../apiserver/server.ts';
import type { KubeObject } from '../../apiserver/types.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import type { StatusReport } from '../../shared/status/report.ts';
import { NS } from '../../shared/status/test-helpers.ts';
import { CLEAR_SCREEN } from '../../shared/status/watch-frame.ts';

/**
 * `metalbeacon status --watch` as a child process against the embedded API server: it must
 * follow changes as they happen, through cut watches and an API server restart (saying while it
 * is not current), draw a burst of changes as a few frames, and stop cleanly on Ctrl-C.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NODE = `${ROOT}node_modules/.bin/node`;
const CRDS = `${ROOT}config/crd`;

/** A running `status --watch` and everything it printed so far. */
class Watcher {
  readonly child: ChildProcessWithoutNullStreams;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(kubeconfig: string, args: string[]) {
    this.child = spawn(
      NODE,
      ['bin/metalbeacon.js', '--kubeconfig', kubeconfig, 'status', '--watch', ...args],
      {
        cwd: ROOT,
      },
    );
    this.child.stdout.on('data', (d: Buffer) => {
      this.stdout += d.toString();
    });
    this.child.stderr.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
    this.exited = new Promise((resolve) => this.child.on('exit', resolve));
  }

  /** The JSON documents printed so far (-o json: one a line). */
  reports(): StatusReport[] {
    return this.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as StatusReport);
  }

  /** The table frames printed so far (to a pipe: each starts with "--- TIME"). */
  frames(): string[] {
    return this.stdout.split(/^--- /m).slice(1);
  }

  async stop(): Promise<number | null> {
    this.child.kill('SIGINT');
    return this.exited;
  }
}

function lbService(name: string, ip: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default' },
    spec: { type: 'LoadBalancer', ports: [{ port: 80, protocol: 'TCP' }] },
    status: { loadBalancer: { ingress: [{ ip }] } },
  } as KubeObject;
}

function l2Status(service: string, node: string): KubeObject {
  return {
    apiVersion: 'metalbeacon.io/v1beta1',
    kind: 'ServiceL2Status',
    metadata: {
      name: `l2-${node}-${service}`,
      namespace: NS,
      labels: {
        'metalbeacon.io/node': node,
        'metalbeacon.io/service-name': service,
        'metalbeacon.io/service-namespace': 'default',
      },
    },
    status: { node, serviceName: service, serviceNamespace: 'default', interfaces: [{ name: 'eth0' }] },
  } as KubeObject;
}

const names = (r: StatusReport | undefined) => (r?.services ?? []).map((s) => s.name);

describe('metalbeacon status --watch', () => {
  let server: ApiServerHandle;
  let dir: string;
  let kubeconfig: string;
  const running: Watcher[] = [];

  before(async () => {
    server = await startApiServer({ port: 0, apply: [CRDS] });
    server.applyObjects([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } } as KubeObject]);
    dir = mkdtempSync(join(tmpdir(), 'mb-status-watch-'));
    kubeconfig = join(dir, 'kubeconfig');
    server.writeKubeconfig(kubeconfig);
  });
  after(async () => {
    for (const w of running) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = (args: string[]) => {
    const w = new Watcher(kubeconfig, args);
    running.push(w);
    return w;
  };

  it('-o json: a document per change, following Services and status objects as they change', async () => {
    const w = start(['-o', 'json']);
    await waitFor('the first document', () => w.reports().length > 0 || undefined, { timeoutMs: 20_000 });
    server.applyObjects([lbService('web', '198.51.100.7')]);
    const seen = await waitFor(
      'web with its IP',
      () =>
        w.reports().find((r) => r.services.some((s) => s.name === 'web' && s.ips.includes('198.51.100.7'))),
      { timeoutMs: 10_000 },
    );
    assert.equal(seen.services.find((s) => s.name === 'web')?.state, 'assigned');
    server.applyObjects([l2Status('web', 'node-a')]);
    const announced = await waitFor(
      'web announced by node-a',
      () =>
        w
          .reports()
          .find((r) =>
            r.services.some((s) => s.name === 'web' && s.announcements.some((a) => a.node === 'node-a')),
          ),
      { timeoutMs: 10_000 },
    );
    assert.equal(announced.services.find((s) => s.name === 'web')?.state, 'announced');
    server.deleteObject('v1', 'Service', 'default', 'web');
    await waitFor('web gone', () => (names(w.reports().at(-1)).includes('web') ? undefined : true), {
      timeoutMs: 10_000,
    });
    assert.equal(await w.stop(), 0, w.stderr);
  });

  it('follows on after cut watches and an API server restart that loses the watch history, saying meanwhile that it is not current', async () => {
    const w = start([]);
    await waitFor('the first frame', () => w.frames().length > 0 || undefined, { timeoutMs: 20_000 });
    server.cutWatches();
    server.applyObjects([lbService('after-cut', '198.51.100.8')]);
    await waitFor('after-cut', () => w.frames().some((f) => f.includes('default/after-cut')) || undefined, {
      timeoutMs: 10_000,
    });
    await server.restart({ downMs: 3000 });
    server.applyObjects([lbService('after-restart', '198.51.100.9')]);
    await waitFor(
      'after-restart, and a frame without trouble after it',
      () => {
        const frames = w.frames();
        const i = frames.findIndex((f) => f.includes('default/after-restart'));
        return i >= 0 && frames.slice(i).some((f) => !f.includes('! not current')) ? true : undefined;
      },
      { timeoutMs: 20_000 },
    );
    const troubled = w.frames().filter((f) => f.includes('! not current'));
    assert.ok(troubled.length > 0, 'some frame said the view was not current while the server was down');
    // First the open watches break (socket hang up), then the relists find nobody listening.
    assert.ok(
      troubled.some((f) => /^! not current: \S+: .*ECONNREFUSED.*; retrying$/m.test(f)),
      troubled.join('\n'),
    );
    assert.equal(await w.stop(), 0, w.stderr);
    assert.equal(w.stderr, '', 'nothing on stderr at the default log level');
  });

  it('draws a burst of 200 new Services as a few frames, the last with all of them', async () => {
    const w = start(['-o', 'json']);
    await waitFor('the first document', () => w.reports().length > 0 || undefined, { timeoutMs: 20_000 });
    const before = w.reports().length;
    const burst = Array.from({ length: 200 }, (_, i) =>
      lbService(`burst-${i}`, `198.51.100.${(i % 200) + 20}`),
    );
    server.applyObjects(burst);
    await waitFor(
      'every burst Service',
      () =>
        names(w.reports().at(-1)).filter((n) => n.startsWith('burst-')).length === 200 ? true : undefined,
      { timeoutMs: 20_000 },
    );
    const frames = w.reports().length - before;
    assert.ok(frames < 50, `${frames} documents for 200 changes`);
    assert.equal(await w.stop(), 0, w.stderr);
  });

  it('on a terminal: the alternate screen, a header each redraw, Ctrl-C restores the screen and exits 0', async () => {
    // script(1) gives the CLI a pseudo-terminal; a Ctrl-C typed into it reaches the CLI as SIGINT.
    // `exec`, because script runs the command through $SHELL -c: dash (the /bin/sh used when
    // SHELL is unset, as under CI) would stay in the foreground group and die of the SIGINT.
    const command = `exec ${NODE} bin/metalbeacon.js --kubeconfig ${kubeconfig} status --watch`;
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      cwd: ROOT,
      env: { ...process.env, COLUMNS: '100', LINES: '40' },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      // Ages redraw every second on a terminal: several frames without any change.
      await waitFor('three redraws', () => (out.split(CLEAR_SCREEN).length > 3 ? true : undefined), {
        timeoutMs: 20_000,
      });
      assert.ok(out.includes('\u001b[?1049h'), 'switched to the alternate screen');
      assert.match(out, /metalbeacon status --watch {3}\d{4}-\d\d-\d\dT[\d:]+Z {3}Ctrl-C to stop/);
      child.stdin.write('\u0003');
      assert.equal(await exited, 0, out.slice(-500));
      assert.ok(out.includes('\u001b[?1049l'), 'the screen was restored');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('a namespace without our objects, or a cluster without the CRDs, fails at once with the same error as status', async () => {
    const w = start(['--namespace', 'nowhere', '-o', 'json']);
    // An empty namespace is a valid view: no pools, no status objects.
    await waitFor('the first document', () => w.reports().length > 0 || undefined, { timeoutMs: 20_000 });
    assert.deepEqual(w.reports()[0]?.pools, []);
    assert.equal(await w.stop(), 0, w.stderr);
    const bare = await startApiServer({ port: 0 });
    try {
      const k = join(dir, 'bare.kubeconfig');
      bare.writeKubeconfig(k);
      const lone = new Watcher(k, []);
      running.push(lone);
      assert.equal(await lone.exited, 1);
      assert.match(lone.stderr, /^error: the MetalBeacon CRDs are not installed/m);
    } finally {
      await bare.stop();
    }
  });
});
