import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { type ApiServerHandle, startApiServer } from '../../apiserver/server.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import {
  type KubectlHome,
  kubectlHome,
  layerBinary,
  type RunResult,
  runOk,
  runTool,
} from '../support/kubectl.ts';

/**
 * Issue 19: kubectl 1.34's imperative commands, which send protobuf bodies and ask for protobuf
 * answers, against the embedded server, asserting on what kubectl prints.
 */

let server: ApiServerHandle;
let tool: KubectlHome;
const NS = 'imperative';

before(async () => {
  server = await startApiServer();
  tool = kubectlHome(server, 'metalbeacon-kubectl-imperative-');
});
after(async () => {
  await server.stop();
  tool.remove();
});

const kubectl = (...args: string[]): Promise<RunResult> => runTool('kubectl', args, tool);
const ok = (...args: string[]): Promise<string> => runOk('kubectl', args, tool);

describe('kubectl imperative commands (protobuf bodies)', () => {
  test('create namespace|service|secret|configmap, expose, label, annotate and delete, seen by get -w', async () => {
    assert.equal((await ok('create', 'namespace', NS)).trim(), `namespace/${NS} created`);
    const n = ['-n', NS];
    // kubectl prints nothing (not even the header) while a watched list is empty.
    assert.equal(
      (await ok('create', 'service', 'loadbalancer', 'web', '--tcp=80:8080', ...n)).trim(),
      'service/web created',
    );
    const watcher = spawn(layerBinary('kubectl'), ['get', 'svc', '-n', NS, '-w', '--output-watch-events'], {
      env: { PATH: process.env.PATH ?? '', HOME: tool.home, KUBECONFIG: tool.kubeconfig },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let watched = '';
    watcher.stdout.on('data', (d) => {
      watched += d;
    });
    const events = () =>
      watched
        .split('\n')
        .slice(1)
        .filter((l) => l.trim() !== '')
        .map((l) => l.split(/\s+/).slice(0, 2).join(' '));
    try {
      await waitFor('the watch header', () => watched.startsWith('EVENT'));
      assert.equal(
        (await ok('create', 'service', 'clusterip', 'cip', '--tcp=80:80', ...n)).trim(),
        'service/cip created',
      );
      assert.equal(
        (await ok('create', 'service', 'nodeport', 'np', '--tcp=80:80', '--node-port=30080', ...n)).trim(),
        'service/np created',
      );
      assert.equal(
        (await ok('expose', 'service', 'cip', '--name=cip2', '--port=81', '--target-port=8080', ...n)).trim(),
        'service/cip2 exposed',
      );
      assert.equal((await ok('label', 'svc', 'web', 'tier=edge', ...n)).trim(), 'service/web labeled');
      assert.equal((await ok('annotate', 'svc', 'web', 'note=hello', ...n)).trim(), 'service/web annotated');
      assert.equal(
        (await ok('create', 'secret', 'generic', 'auth', '--from-literal=password=s3cret', ...n)).trim(),
        'secret/auth created',
      );
      assert.equal(
        (await ok('create', 'configmap', 'settings', '--from-literal=mode=l2', ...n)).trim(),
        'configmap/settings created',
      );

      const rows = (await ok('get', 'svc', ...n, '-o', 'wide', '--no-headers'))
        .trim()
        .split('\n')
        .map((l) => l.split(/\s+/));
      const row = (name: string) => rows.find((r) => r[0] === name)!;
      assert.equal(row('web')[1], 'LoadBalancer');
      assert.match(row('web')[4]!, /^80:3\d{4}\/TCP$/);
      assert.equal(row('web')[6], 'app=web');
      assert.equal(row('cip')[1], 'ClusterIP');
      assert.equal(row('np')[4], '80:30080/TCP');
      assert.equal(row('cip2')[4], '81/TCP');
      assert.equal(row('cip2')[6], 'app=cip', 'expose copies the selector');
      assert.equal(
        await ok('get', 'svc', 'cip2', ...n, '-o', 'jsonpath={.spec.ports[0].targetPort}'),
        '8080',
      );
      assert.equal(
        await ok(
          'get',
          'svc',
          'web',
          ...n,
          '-o',
          'jsonpath={.metadata.labels.tier}/{.metadata.annotations.note}',
        ),
        'edge/hello',
      );
      const password = await ok('get', 'secret', 'auth', ...n, '-o', 'jsonpath={.data.password}');
      assert.equal(Buffer.from(password, 'base64').toString(), 's3cret');

      assert.equal(
        (await ok('delete', 'svc', 'cip2', ...n)).trim(),
        `service "cip2" deleted from ${NS} namespace`,
      );
      await waitFor('every change in the watch', () => events().includes('DELETED cip2'));
    } finally {
      watcher.kill('SIGTERM');
    }
    const seen = events();
    for (const name of ['web', 'cip', 'np', 'cip2'])
      assert.ok(seen.includes(`ADDED ${name}`), `ADDED ${name}`);
    assert.deepEqual(
      seen.filter((e) => e.endsWith(' web')),
      ['ADDED web', 'MODIFIED web', 'MODIFIED web'],
      'label and annotate are one change each',
    );
  });

  test('answers in protobuf decode, in kubectl, to exactly the JSON the server stores', async () => {
    const n = ['-n', NS];
    // Go's types print empty structs and zero counters the stored JSON leaves out (`status: {}`,
    // `currentHealthy: 0`); neither carries data, so both sides drop them before comparing.
    const meaningful = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(meaningful);
      if (typeof v !== 'object' || v === null) return v;
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        const m = meaningful(x);
        if (
          m === 0 ||
          (typeof m === 'object' && m !== null && !Array.isArray(m) && Object.keys(m).length === 0)
        )
          continue;
        out[k] = m;
      }
      return out;
    };
    const creates: [string[], string, string[]?][] = [
      [['create', 'service', 'loadbalancer', 'pbsvc', '--tcp=443:8443'], 'svc/pbsvc'],
      [
        ['create', 'deployment', 'pbdeploy', '--image=nginx', '--port=80', '--replicas=2'],
        'deployment/pbdeploy',
      ],
      [['create', 'job', 'pbjob', '--image=busybox'], 'job/pbjob', ['--', 'echo', 'hi']],
      [['create', 'role', 'pbrole', '--verb=get,list', '--resource=pods,services'], 'role/pbrole'],
      [
        ['create', 'rolebinding', 'pbrb', '--role=pbrole', '--user=alice', '--serviceaccount=imperative:sa'],
        'rolebinding/pbrb',
      ],
      [['create', 'clusterrole', 'pbcr', '--verb=get', '--resource=nodes'], 'clusterrole/pbcr'],
      [
        ['create', 'clusterrolebinding', 'pbcrb', '--clusterrole=pbcr', '--group=ops'],
        'clusterrolebinding/pbcrb',
      ],
      [['create', 'pdb', 'pbpdb', '--selector=app=x', '--max-unavailable=25%'], 'pdb/pbpdb'],
      [['create', 'serviceaccount', 'pbsa'], 'serviceaccount/pbsa'],
      [['create', 'configmap', 'pbcm', '--from-literal=a=b'], 'configmap/pbcm'],
    ];
    for (const [args, ref, tail = []] of creates) {
      // The create answer is protobuf (kubectl asks for it first); `get` is JSON.
      const created = JSON.parse(await ok(...args, ...n, '-o', 'json', ...tail));
      const stored = JSON.parse(await ok('get', ref, ...n, '-o', 'json'));
      assert.equal(stored.metadata.uid, created.metadata.uid, ref);
      assert.deepEqual(meaningful(created), meaningful(stored), ref);
    }
    assert.equal(
      await ok('get', 'job', 'pbjob', ...n, '-o', 'jsonpath={.spec.template.spec.containers[0].command}'),
      '["echo","hi"]',
    );
    // The server really answered protobuf to a client asking as kubectl does.
    const res = await fetch(`${server.url}/apis/apps/v1/namespaces/${NS}/deployments/pbdeploy`, {
      headers: { accept: 'application/vnd.kubernetes.protobuf,application/json' },
    });
    assert.equal(res.headers.get('content-type'), 'application/vnd.kubernetes.protobuf');
    // describe reads objects and event lists through typed (protobuf) clients.
    const described = await ok('describe', 'svc', 'pbsvc', ...n);
    assert.match(described, /^Type:\s+LoadBalancer$/m);
    assert.match(described, /^TargetPort:\s+8443\/TCP$/m);
    assert.match(await ok('describe', 'pdb', 'pbpdb', ...n), /^Max unavailable:\s+25%$/m);
  });

  test('kubectl delete namespace removes what the imperative commands created', async () => {
    assert.equal((await ok('delete', 'namespace', NS, '--wait=false')).trim(), `namespace "${NS}" deleted`);
    await waitFor('the namespace to go', async () => (await kubectl('get', 'namespace', NS)).code !== 0);
    assert.match((await kubectl('get', 'svc', 'web', '-n', NS)).stderr, /NotFound/);
  });
});
