import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, CustomObjectsApi, type KubeConfig, type V1Service } from '@kubernetes/client-node';
import { type ApiServerHandle, startApiServer } from '../../apiserver/server.ts';
import { GROUP, PLURALS, VERSION } from '../../shared/api/names.ts';
import { buildStatusReport, type StatusReport } from '../../shared/status/report.ts';
import { NS, sampleCluster } from '../../shared/status/test-helpers.ts';
import { kubeConfigFor } from '../support/kube-client.ts';

/**
 * `metalbeacon status` end to end: the real CLI as a child process against the embedded API
 * server with config/crd applied, the sample cluster of shared/status created through
 * client-node (Services with their status, pools with status counts, L2/BGP status objects,
 * BGPSessionState objects, failure events). The CLI must show what the pure core makes of the
 * same objects, as a table and as JSON.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NODE = `${ROOT}node_modules/.bin/node`;
const CRDS = `${ROOT}config/crd`;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI without blocking this process (the API server lives in it). */
function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      NODE,
      ['bin/metalbeacon.js', ...args],
      { cwd: ROOT, encoding: 'utf8', timeout: 30_000, env: { ...process.env, KUBECONFIG: '', ...env } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Creates a custom object, then writes its status through the status subresource. */
async function createWithStatus(
  custom: CustomObjectsApi,
  object: { kind?: string; status?: unknown },
): Promise<void> {
  const plural = PLURALS[object.kind as keyof typeof PLURALS];
  const { status, ...rest } = object;
  const created = (await custom.createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: NS,
    plural,
    body: rest,
  })) as { metadata: { name: string } };
  if (status === undefined) return;
  await custom.replaceNamespacedCustomObjectStatus({
    group: GROUP,
    version: VERSION,
    namespace: NS,
    plural,
    name: created.metadata.name,
    body: { ...created, status },
  });
}

/** Puts shared/status's sample cluster into the server; returns Service ns/name -> uid. */
async function loadSampleCluster(kc: KubeConfig): Promise<Map<string, string>> {
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const sample = sampleCluster();
  for (const name of [NS, 'shop']) await core.createNamespace({ body: { metadata: { name } } });
  const uids = new Map<string, string>();
  for (const svc of sample.services) {
    const { uid: _uid, ...metadata } = svc.metadata ?? {};
    const body: V1Service = {
      metadata,
      spec: { ...svc.spec, ports: [{ port: 443, protocol: 'TCP' }], selector: { app: 'x' } },
    };
    const created = await core.createNamespacedService({ namespace: metadata.namespace ?? 'default', body });
    uids.set(`${metadata.namespace}/${metadata.name}`, created.metadata?.uid ?? '');
    if (svc.status?.loadBalancer?.ingress?.length) {
      await core.replaceNamespacedServiceStatus({
        namespace: metadata.namespace ?? 'default',
        name: metadata.name ?? '',
        body: { ...created, status: { loadBalancer: { ingress: [...svc.status.loadBalancer.ingress] } } },
      });
    }
  }
  for (const e of sample.events) {
    const o = e.involvedObject!;
    // The fixture's default uids stand for "this Service"; any other uid is an earlier incarnation.
    const uid = o.uid === `uid-${o.namespace}-${o.name}` ? uids.get(`${o.namespace}/${o.name}`) : o.uid;
    await core.createNamespacedEvent({
      namespace: o.namespace!,
      body: {
        metadata: { name: `${o.name}.${Date.parse(e.lastTimestamp!).toString(16)}${e.reason}`.toLowerCase() },
        involvedObject: { ...o, uid, apiVersion: 'v1' },
        type: e.type,
        reason: e.reason,
        message: e.message,
        firstTimestamp: new Date(e.firstTimestamp!),
        lastTimestamp: new Date(e.lastTimestamp!),
        count: 1,
        source: { component: 'metalbeacon-controller' },
      },
    });
  }
  for (const object of [...sample.pools, ...sample.l2Statuses, ...sample.bgpStatuses, ...sample.sessions])
    await createWithStatus(custom, object);
  return uids;
}

/** The report with event times in one spelling (the client writes them with milliseconds). */
function normalized(report: StatusReport): StatusReport {
  return {
    ...report,
    services: report.services.map((s) => ({
      ...s,
      pendingReason: s.pendingReason && {
        ...s.pendingReason,
        time: s.pendingReason.time && new Date(s.pendingReason.time).toISOString(),
      },
    })),
  };
}

describe('metalbeacon status (CLI against the embedded API server)', () => {
  let server: ApiServerHandle;
  let dir: string;
  let kubeconfig: string;

  before(async () => {
    server = await startApiServer({ port: 0, dualStack: true, apply: [CRDS] });
    dir = mkdtempSync(join(tmpdir(), 'mb-status-'));
    kubeconfig = join(dir, 'kubeconfig');
    server.writeKubeconfig(kubeconfig);
    await loadSampleCluster(kubeConfigFor(server.kubeconfigText));
  });

  after(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('-o json: the same document the pure core makes of these objects, exact 2^64 included', async () => {
    const run = await cli(['--kubeconfig', kubeconfig, 'status', '-o', 'json']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, '');
    const report = JSON.parse(run.stdout) as StatusReport;
    assert.deepEqual(normalized(report), normalized(buildStatusReport(sampleCluster())));
    assert.match(run.stdout, /"IPv6": "18446744073709551616"/);
    assert.deepEqual(report.services.find((s) => s.name === 'db')?.pendingReason, {
      reason: 'AllocationFailed',
      message: 'no IP available: pool lan: no free address; pool v6: wrong family',
      time: report.services.find((s) => s.name === 'db')?.pendingReason?.time ?? null,
    });
    assert.equal(
      Date.parse(report.services.find((s) => s.name === 'db')?.pendingReason?.time ?? ''),
      Date.parse('2026-11-22T09:05:00Z'),
    );
  });

  it('table: every section, with ages of the session states, through KUBECONFIG too', async () => {
    const run = await cli(['status'], { KUBECONFIG: kubeconfig });
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.split('\n');
    assert.match(
      lines[0]!,
      /^MetalBeacon \(namespace metalbeacon-system\): 4 LoadBalancer Services \(1 pending\), 3 BGP sessions \(1 not Established\), 3 pools \(1 not in force\), 4 problems$/,
    );
    const expectLine = (pattern: RegExp) =>
      assert.ok(
        lines.some((l) => pattern.test(l)),
        `no line matches ${pattern}\n${run.stdout}`,
      );
    expectLine(/^NAMESPACE\/NAME +IPS +POOL +MODE +ANNOUNCED BY$/);
    expectLine(
      /^default\/db +<pending> +- +- +AllocationFailed: no IP available: pool lan: no free address; pool v6: wrong family$/,
    );
    expectLine(/^default\/orphan +198\.51\.100\.30 +lan +- +<none>$/);
    expectLine(/^default\/web +198\.51\.100\.10 +lan +L2 +node-a \(eth0\)$/);
    expectLine(
      /^shop\/api +198\.51\.100\.20, 2001:db8:100::20 +lan +BGP +node-a -> r1; node-b -> r1, r2 \(Active\)$/,
    );
    expectLine(/^\(1 Service of another loadBalancerClass not shown\)$/);
    expectLine(/^NODE +PEER +ADDRESS +STATE +SINCE +PREFIXES +LAST ERROR$/);
    expectLine(/^node-a +r1 +192\.0\.2\.1 +Established, BFD Up +\d+[smhdy][0-9a-z]* +2$/);
    expectLine(
      /^node-b +r2 +2001:db8:0:1::2 +Active, BFD Down \(ControlDetectionTimeExpired\) +\d+[smhdy][0-9a-z]* +0 +connect ECONNREFUSED$/,
    );
    expectLine(/^NAME +ADDRESSES +IPV4 USED\/FREE +IPV6 USED\/FREE +CONFIG$/);
    expectLine(/^lan +198\.51\.100\.0\/24, 2001:db8:100::\/120 +3\/253 +1\/255 +valid$/);
    expectLine(/^v6 +2001:db8:200::\/64 +- +0\/18446744073709551616 +valid$/);
    expectLine(/^broken +198\.51\.100\.300\/32 +- +- +ConfigurationError: /);
    const problems = lines.indexOf('PROBLEMS (4)');
    assert.ok(problems > lines.indexOf('POOLS'), run.stdout);
    assert.deepEqual(
      lines.slice(problems + 1, -1).map((l) => l.split(':')[0]),
      ['- default/db', '- default/orphan', '- node-b/r2', '- broken'],
    );
  });

  it('--lb-class shows the other class; --namespace elsewhere finds no pools or sessions', async () => {
    const other = await cli([
      '--kubeconfig',
      kubeconfig,
      'status',
      '-o',
      'json',
      '--lb-class',
      'example.com/other',
    ]);
    assert.equal(other.code, 0, other.stderr);
    const report = JSON.parse(other.stdout) as StatusReport;
    assert.deepEqual(
      report.services.map((s) => [s.name, s.state, s.ips]),
      [['theirs', 'assigned', ['198.51.100.40']]],
    );
    const elsewhere = await cli(['--kubeconfig', kubeconfig, 'status', '-n', 'shop']);
    assert.equal(elsewhere.code, 0, elsewhere.stderr);
    assert.match(elsewhere.stdout, /BGP SESSIONS\nNo BGP sessions\.\n/);
    assert.match(elsewhere.stdout, /POOLS\nNo IPAddressPools\.\n/);
    // Without the status objects nothing is announced.
    assert.match(elsewhere.stdout, /^default\/web +198\.51\.100\.10 +lan +- +<none>$/m);
  });

  it('bad --namespace and -o values are usage errors', async () => {
    const ns = await cli(['--kubeconfig', kubeconfig, 'status', '-n', 'Not_A_Namespace']);
    assert.equal(ns.code, 2);
    assert.match(ns.stderr, /^error: --namespace Not_A_Namespace is not a valid namespace name\n/);
    const output = await cli(['--kubeconfig', kubeconfig, 'status', '-o', 'yaml']);
    assert.equal(output.code, 2);
    assert.match(output.stderr, /argument 'yaml' is invalid/);
  });
});

describe('metalbeacon status: errors are one line', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mb-status-err-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a kubeconfig that does not exist', async () => {
    const run = await cli(['--kubeconfig', join(dir, 'missing'), 'status']);
    assert.equal(run.code, 1);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /^error: kubeconfig \S+missing does not exist\nhint: .+\n$/);
  });

  it('an API server that is not running', async () => {
    const server = await startApiServer({ port: 0 });
    const file = join(dir, 'stopped');
    server.writeKubeconfig(file);
    await server.stop();
    const run = await cli(['--kubeconfig', file, 'status']);
    assert.equal(run.code, 1);
    assert.equal(run.stdout, '');
    assert.match(
      run.stderr,
      new RegExp(
        `^error: cannot reach the Kubernetes API server at ${server.url}: ECONNREFUSED\\nhint: .+\\n$`,
      ),
    );
  });

  it('a cluster without our CRDs, and one without the BGPSessionState CRD only', async () => {
    const server = await startApiServer({ port: 0 });
    try {
      const file = join(dir, 'bare');
      server.writeKubeconfig(file);
      const run = await cli(['--kubeconfig', file, 'status']);
      assert.equal(run.code, 1);
      assert.equal(run.stdout, '');
      assert.match(
        run.stderr,
        /^error: the MetalBeacon CRDs are not installed in this cluster \(ipaddresspools\.metalbeacon\.io, .*bgpsessionstates\.metalbeacon\.io not found\)\nhint: install them with kubectl apply -f config\/crd\/.*\n$/,
      );
    } finally {
      await server.stop();
    }
    const partial = await startApiServer({ port: 0, apply: [CRDS] });
    try {
      partial.deleteObject(
        'apiextensions.k8s.io/v1',
        'CustomResourceDefinition',
        undefined,
        'bgpsessionstates.metalbeacon.io',
      );
      const file = join(dir, 'partial');
      writeFileSync(file, partial.kubeconfigText);
      const run = await cli(['--kubeconfig', file, 'status']);
      assert.equal(run.code, 1);
      assert.match(
        run.stderr,
        /^error: MetalBeacon CRD bgpsessionstates\.metalbeacon\.io not installed in this cluster\n/,
      );
    } finally {
      await partial.stop();
    }
  });
});
