import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type ApiServerHandle, startApiServer } from '../../apiserver/server.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import { type KubectlHome, kubectlHome, layerBinary, type RunResult, runTool } from '../support/kubectl.ts';

/**
 * The done-when criterion of issue 2: a real client nobody here wrote (kubectl 1.34) against
 * the embedded server, asserting on what kubectl prints, as against a real cluster.
 */

const ROOT = new URL('../../', import.meta.url).pathname;
let server: ApiServerHandle;
let tool: KubectlHome;
let kubectlPath: string;

before(async () => {
  kubectlPath = layerBinary('kubectl');
  server = await startApiServer();
  tool = kubectlHome(server, 'metalbeacon-kubectl-');
});
after(async () => {
  await server.stop();
  tool.remove();
});

function start(args: string[]): ChildProcess {
  return spawn(kubectlPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: tool.home, KUBECONFIG: tool.kubeconfig },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs kubectl asynchronously (the server lives in this process, so never block it). */
function kubectl(...args: string[]): Promise<RunResult> {
  return runTool('kubectl', args, tool);
}

/** Writes `text` to `name` in the kubectl home; returns its path, for `-f`. */
function manifestFile(name: string, text: string): string {
  const file = join(tool.home, name);
  writeFileSync(file, text);
  return file;
}

async function ok(...args: string[]): Promise<string> {
  const r = await kubectl(...args);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

/** Table output → rows of whitespace-separated cells (column texts have no double spaces). */
function table(text: string): string[][] {
  return text
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s{2,}/));
}

describe('kubectl round trip', () => {
  test('kubectl apply -f config/crd/ -f config/samples/ behaves as on a real cluster; a repeat changes nothing', async () => {
    // kubectl maps every object to a resource before applying any, so on a fresh cluster the
    // custom resources of the same command fail ("resource mapping not found") while the
    // CRDs are created; running the same command again creates them. Real clusters do this.
    const first = await kubectl('apply', '-f', 'config/crd/', '-f', 'config/samples/');
    assert.equal(first.code, 1);
    assert.match(
      first.stdout,
      /^customresourcedefinition\.apiextensions\.k8s\.io\/ipaddresspools\.metalbeacon\.io created$/m,
    );
    assert.match(first.stdout, /^namespace\/metalbeacon-system created$/m);
    assert.match(first.stdout, /^service\/ingress-nginx-controller created$/m);
    assert.match(
      first.stderr,
      /resource mapping not found for name: "ingress" namespace: "metalbeacon-system"/,
    );
    await ok('wait', '--for', 'condition=established', '--timeout=10s', 'crd/ipaddresspools.metalbeacon.io');
    const out = await ok('apply', '-f', 'config/crd/', '-f', 'config/samples/');
    assert.match(out, /^ipaddresspool\.metalbeacon\.io\/ingress created$/m);
    assert.match(out, /^bgppeer\.metalbeacon\.io\/router-a created$/m);
    assert.match(
      out,
      /^customresourcedefinition\.apiextensions\.k8s\.io\/ipaddresspools\.metalbeacon\.io unchanged$/m,
    );
    const again = await ok('apply', '-f', 'config/crd/', '-f', 'config/samples/');
    assert.match(again, /^ipaddresspool\.metalbeacon\.io\/ingress unchanged$/m);
    assert.match(again, /^service\/ingress-nginx-controller unchanged$/m);
    assert.doesNotMatch(again, /created|configured/);
  });

  test('kubectl get ipaddresspools -o wide shows the CRD printer columns from the server Table', async () => {
    const wide = table(await ok('get', 'ipaddresspools', '-A', '-o', 'wide'));
    assert.deepEqual(wide[0], [
      'NAMESPACE',
      'NAME',
      'AUTO ASSIGN',
      'AVOID BUGGY IPS',
      'ADDRESSES',
      'ASSIGNED IPV4',
      'AVAILABLE IPV4',
      'ASSIGNED IPV6',
      'AVAILABLE IPV6',
      'PRIORITY',
      'AGE',
    ]);
    const ingress = wide.find((row) => row[1] === 'ingress');
    assert.ok(ingress, 'the ingress pool is listed');
    assert.equal(ingress[0], 'metalbeacon-system');
    assert.equal(ingress[2], 'false');
    assert.match(ingress[4]!, /198\.51\.100\.0\/26/);
    assert.match(ingress.at(-1)!, /^\d+s$/);
    const narrow = table(await ok('get', 'ipaddresspools', '-n', 'metalbeacon-system'));
    assert.ok(!narrow[0]!.includes('PRIORITY'), 'priority-1 columns only with -o wide');
    const services = table(await ok('get', 'svc', '-n', 'ingress-nginx'));
    assert.deepEqual(services[0], ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE']);
    const controller = services.find((r) => r[0] === 'ingress-nginx-controller')!;
    assert.equal(controller[1], 'LoadBalancer');
    assert.match(controller[2]!, /^10\.9[6-9]\.|^10\.1[01]\d\./);
    assert.equal(controller[3], '<pending>');
    assert.match(controller[4]!, /^80:3\d{4}\/TCP,443:3\d{4}\/TCP$/);
  });

  test('kubectl get svc -A -w streams a change', async () => {
    const watcher = start(['get', 'svc', '-A', '-w']);
    let output = '';
    watcher.stdout!.on('data', (d) => {
      output += d;
    });
    try {
      await waitFor('the initial rows', () => output.includes('ingress-nginx-controller-udp'));
      await ok(
        'patch',
        'svc',
        '-n',
        'ingress-nginx',
        'ingress-nginx-controller-udp',
        '--type',
        'merge',
        '-p',
        '{"spec":{"type":"ClusterIP"}}',
      );
      await waitFor('the watched change', () =>
        output.split('\n').some((l) => /ingress-nginx-controller-udp\s+ClusterIP\s+/.test(l)),
      );
    } finally {
      watcher.kill('SIGTERM');
    }
    const lines = output.trim().split('\n');
    assert.match(lines[0]!, /^NAMESPACE\s+NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE$/);
    assert.equal(lines.filter((l) => l.startsWith('NAMESPACE')).length, 1, 'one header for the whole stream');
  });

  test('kubectl get svc -A -w --output-watch-events streams an addition, a change and a deletion', async () => {
    const watcher = start(['get', 'svc', '-A', '-w', '--output-watch-events']);
    let output = '';
    watcher.stdout!.on('data', (d) => {
      output += d;
    });
    const rows = () => output.split('\n').filter((l) => /\swatch-demo\s/.test(l));
    try {
      await waitFor('the initial rows', () => output.includes('ingress-nginx-controller-udp'));
      assert.deepEqual(rows(), [], 'not there yet');
      const file = manifestFile(
        'watch-demo.yaml',
        'apiVersion: v1\nkind: Service\nmetadata: {name: watch-demo, namespace: default}\n' +
          'spec: {type: LoadBalancer, ports: [{port: 80, targetPort: 8080}]}\n',
      );
      await ok('create', '-f', file);
      await waitFor('the addition', () =>
        rows().some((l) => /^ADDED\s+default\s+watch-demo\s+LoadBalancer\s/.test(l)),
      );
      await ok('label', 'svc', 'watch-demo', '-n', 'default', 'tier=edge');
      await waitFor('the change', () => rows().some((l) => l.startsWith('MODIFIED')));
      await ok('delete', 'svc', 'watch-demo', '-n', 'default');
      await waitFor('the deletion', () => rows().some((l) => l.startsWith('DELETED')));
    } finally {
      watcher.kill('SIGTERM');
    }
    assert.deepEqual(
      rows().map((l) => l.split(/\s+/)[0]),
      ['ADDED', 'MODIFIED', 'DELETED'],
      'each change once, in order',
    );
    assert.match(
      output.split('\n')[0]!,
      /^EVENT\s+NAMESPACE\s+NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE$/,
    );
  });

  test('kubectl create namespace|configmap|secret (typed commands that send protobuf)', async () => {
    assert.equal((await ok('create', 'namespace', 'demo')).trim(), 'namespace/demo created');
    assert.equal(
      (await ok('create', 'configmap', 'settings', '-n', 'demo', '--from-literal=mode=l2')).trim(),
      'configmap/settings created',
    );
    assert.equal(
      (
        await ok('create', 'secret', 'generic', 'bgp-auth', '-n', 'demo', '--from-literal=password=s3cret')
      ).trim(),
      'secret/bgp-auth created',
    );
    assert.equal(await ok('get', 'configmap', 'settings', '-n', 'demo', '-o', 'jsonpath={.data.mode}'), 'l2');
    const password = await ok('get', 'secret', 'bgp-auth', '-n', 'demo', '-o', 'jsonpath={.data.password}');
    assert.equal(Buffer.from(password, 'base64').toString(), 's3cret');
    const again = await kubectl('create', 'namespace', 'demo');
    assert.equal(again.stderr.trim(), 'Error from server (AlreadyExists): namespaces "demo" already exists');
  });

  test('kubectl version and auth can-i answer as a cluster without authorization', async () => {
    assert.match(await ok('version'), /^Server Version: v1\.34\./m);
    assert.equal((await ok('auth', 'can-i', 'patch', 'services/status')).trim(), 'yes');
  });

  test('kubectl describe shows objects as on a real cluster', async () => {
    const pool = await ok('describe', 'ipaddresspool', 'ingress', '-n', 'metalbeacon-system');
    assert.match(pool, /^Name:\s+ingress$/m);
    assert.match(pool, /^Namespace:\s+metalbeacon-system$/m);
    assert.match(pool, /^Kind:\s+IPAddressPool$/m);
    assert.match(pool, /^API Version:\s+metalbeacon\.io\/v1beta1$/m);
    assert.match(pool, /198\.51\.100\.0\/26/);
    const uid = await ok(
      'get',
      'svc',
      'ingress-nginx-controller',
      '-n',
      'ingress-nginx',
      '-o',
      'jsonpath={.metadata.uid}',
    );
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    server.applyObjects([
      {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: 'ingress-nginx-controller.1', namespace: 'ingress-nginx' },
        involvedObject: {
          apiVersion: 'v1',
          kind: 'Service',
          name: 'ingress-nginx-controller',
          namespace: 'ingress-nginx',
          uid,
        },
        reason: 'IPAllocated',
        message: 'Assigned IP ["198.51.100.10"]',
        type: 'Normal',
        source: { component: 'metalbeacon-controller' },
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      },
    ]);
    const svc = await ok('describe', 'svc', 'ingress-nginx-controller', '-n', 'ingress-nginx');
    assert.match(
      svc,
      /^ {2}Normal\s+IPAllocated\s+\d+s\s+metalbeacon-controller\s+Assigned IP \["198\.51\.100\.10"\]$/m,
    );
    assert.match(svc, /^Type:\s+LoadBalancer$/m);
    assert.match(svc, /^IP Family Policy:\s+SingleStack$/m);
    assert.match(svc, /^IP Families:\s+IPv4$/m);
    assert.match(svc, /^NodePort:\s+http\s+3\d{4}\/TCP$/m);
  });

  test('kubectl patch --type merge, json and strategic', async () => {
    const svc = ['-n', 'ingress-nginx', 'svc/ingress-nginx-controller'];
    assert.equal(
      (
        await ok(
          'patch',
          ...svc,
          '--type',
          'strategic',
          '-p',
          '{"spec":{"ports":[{"name":"metrics","port":10254}]}}',
        )
      ).trim(),
      'service/ingress-nginx-controller patched',
    );
    const ports = await ok('get', ...svc, '-o', 'jsonpath={.spec.ports[*].port}');
    assert.equal(ports, '80 443 10254', 'strategic merge adds to the list by port');
    await ok('patch', ...svc, '--type', 'json', '-p', '[{"op":"remove","path":"/spec/ports/2"}]');
    assert.equal(await ok('get', ...svc, '-o', 'jsonpath={.spec.ports[*].port}'), '80 443');
    const pool = ['-n', 'metalbeacon-system', 'ipaddresspool/reserved'];
    assert.equal(
      (await ok('patch', ...pool, '--type', 'merge', '-p', '{"spec":{"autoAssign":true}}')).trim(),
      'ipaddresspool.metalbeacon.io/reserved patched',
    );
    assert.equal(
      await ok('get', ...pool, '-o', 'jsonpath={.spec.autoAssign} {.metadata.generation}'),
      'true 2',
    );
    assert.equal(
      (await ok('patch', ...pool, '--type', 'merge', '-p', '{"spec":{"autoAssign":true}}')).trim(),
      'ipaddresspool.metalbeacon.io/reserved patched (no change)',
    );
    const bad = await kubectl('patch', ...pool, '--type', 'merge', '-p', '{"spec":{"autoAssign":"yes"}}');
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /is invalid: spec\.autoAssign: Invalid value: "yes"/);
  });

  test('kubectl apply computes strategic merge patches the server applies: a port removed from the file goes', async () => {
    const file = join(tool.home, 'web.yaml');
    const manifest = (ports: string) =>
      `apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default, labels: {app: web}}\nspec:\n  type: LoadBalancer\n  selector: {app: web}\n  ports:\n${ports}`;
    writeFileSync(
      file,
      manifest('  - {name: http, port: 80}\n  - {name: https, port: 443}\n  - {name: admin, port: 9000}\n'),
    );
    assert.equal((await ok('apply', '-f', file)).trim(), 'service/web created');
    const nodePorts = await ok('get', 'svc', 'web', '-o', 'jsonpath={.spec.ports[*].nodePort}');
    writeFileSync(file, manifest('  - {name: https, port: 443}\n  - {name: http, port: 80}\n'));
    assert.equal((await ok('apply', '-f', file)).trim(), 'service/web configured');
    assert.equal(
      await ok('get', 'svc', 'web', '-o', 'jsonpath={.spec.ports[*].port}'),
      '443 80',
      'in file order',
    );
    const [http, https] = nodePorts.split(' ');
    assert.equal(
      await ok('get', 'svc', 'web', '-o', 'jsonpath={.spec.ports[*].nodePort}'),
      `${https} ${http}`,
      'node ports survive the apply',
    );
    assert.equal((await ok('apply', '-f', file)).trim(), 'service/web unchanged');
  });

  test('kubectl apply of an invalid object prints the server 422 naming the field', async () => {
    const file = manifestFile(
      'bad-pool.yaml',
      'apiVersion: metalbeacon.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: bad, namespace: default}\nspec:\n  addresses: 5\n',
    );
    const r = await kubectl('apply', '-f', file);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /IPAddressPool "bad" is invalid/);
    assert.match(
      r.stderr,
      /spec\.addresses: Invalid value: 5: spec\.addresses in body must be of type array/,
    );
    const svcFile = manifestFile(
      'typo-service.yaml',
      'apiVersion: v1\nkind: Service\nmetadata: {name: typo, namespace: default}\nspec:\n  type: LoadBalancer\n  loadBalancerIp: 198.51.100.9\n  ports: [{port: 80}]\n',
    );
    const typo = await kubectl('apply', '-f', svcFile);
    assert.equal(typo.code, 1);
    assert.match(
      typo.stderr,
      /Error from server \(BadRequest\): error when creating ".*typo-service\.yaml": Service in version "v1" cannot be handled as a Service: strict decoding error: unknown field "spec\.loadBalancerIp"/,
    );
  });

  test('kubectl apply -f config/rbac/ (RBAC names such as metalbeacon:controller are path segments)', async () => {
    const out = await ok('apply', '-f', 'config/rbac/');
    assert.match(out, /^clusterrole\.rbac\.authorization\.k8s\.io\/metalbeacon:controller created$/m);
    const bindings = table(await ok('get', 'clusterrolebindings', '-o', 'wide'));
    assert.deepEqual(bindings[0], ['NAME', 'ROLE', 'AGE', 'USERS', 'GROUPS', 'SERVICEACCOUNTS']);
    const controller = bindings.find((r) => r[0] === 'metalbeacon:controller');
    assert.ok(controller);
    assert.equal(controller[1], 'ClusterRole/metalbeacon:controller');
    assert.equal(controller[5], 'metalbeacon-system/controller');
  });

  test('kubectl delete removes objects; a later get is NotFound', async () => {
    assert.equal(
      (await ok('delete', 'ipaddresspool', 'reserved', '-n', 'metalbeacon-system')).trim(),
      'ipaddresspool.metalbeacon.io "reserved" deleted from metalbeacon-system namespace',
    );
    const gone = await kubectl('get', 'ipaddresspool', 'reserved', '-n', 'metalbeacon-system');
    assert.equal(gone.code, 1);
    assert.equal(
      gone.stderr.trim(),
      'Error from server (NotFound): ipaddresspools.metalbeacon.io "reserved" not found',
    );
    await ok('delete', 'namespace', 'ingress-nginx');
    const none = await kubectl('get', 'svc', '-n', 'ingress-nginx');
    assert.equal(none.stdout, '');
    assert.equal(none.stderr.trim(), 'No resources found in ingress-nginx namespace.');
  });

  test('kubectl delete -f config/samples/ deletes everything, namespaces first, without errors', async () => {
    await ok('apply', '-f', 'config/samples/');
    const out = await ok('delete', '-f', 'config/samples/');
    assert.match(out, /^namespace "metalbeacon-system" deleted$/m);
    assert.match(
      out,
      /^ipaddresspool\.metalbeacon\.io "ingress" deleted from metalbeacon-system namespace$/m,
    );
    assert.match(out, /^service "ingress-nginx-controller" deleted from ingress-nginx namespace$/m);
    const none = await kubectl('get', 'ipaddresspools,l2advertisements,bgppeers', '-A');
    assert.equal(none.stdout, '', `still listed:\n${none.stdout}`);
    assert.equal(none.stderr.trim(), 'No resources found');
    const ns = await kubectl('get', 'namespace', 'ingress-nginx');
    assert.match(ns.stderr, /namespaces "ingress-nginx" not found/);
  });
});
