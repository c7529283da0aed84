import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

const ROOT = new URL('../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'metalbeacon-apiserver-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]) {
  const child = spawn(process.execPath, ['bin/metalbeacon.js', '--log-format', 'json', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, exited, stderr: () => stderr };
}

test('metalbeacon apiserver on port 0 logs its address, serves the applied manifests and exits cleanly on SIGTERM', async () => {
  const kubeconfig = join(dir, 'kubeconfig');
  const p = run([
    'apiserver',
    '--listen',
    '127.0.0.1:0',
    '--write-kubeconfig',
    kubeconfig,
    '--apply',
    'config/crd',
    '--apply',
    'config/samples',
  ]);
  let url: string | undefined;
  try {
    const deadline = Date.now() + 20_000;
    while (!url && Date.now() < deadline) {
      const line = p
        .stderr()
        .split('\n')
        .find((l) => l.includes('serving the Kubernetes API'));
      if (line) url = (JSON.parse(line) as { url: string }).url;
      else await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(url, `no address logged:\n${p.stderr()}`);
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(url, 'http://127.0.0.1:0');
    const written = JSON.parse(readFileSync(kubeconfig, 'utf8')) as {
      clusters: { cluster: { server: string } }[];
    };
    assert.equal(written.clusters[0]?.cluster.server, url);
    const pools = (await (await fetch(`${url}/apis/metalbeacon.io/v1beta1/ipaddresspools`)).json()) as {
      items: { metadata: { name: string } }[];
    };
    assert.ok(
      pools.items.some((i) => i.metadata.name === 'ingress'),
      'the samples were applied',
    );
    const svc = (await (await fetch(`${url}/api/v1/namespaces/ingress-nginx/services`)).json()) as {
      items: unknown[];
    };
    assert.equal(svc.items.length, 2);
  } finally {
    p.child.kill('SIGTERM');
  }
  assert.equal(await p.exited, 0);
  assert.match(p.stderr(), /"signal":"SIGTERM"/);
});

test('a port already in use gives one clear line and a hint, exit code 1, no stack trace', async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as { port: number }).port;
  try {
    const p = run(['apiserver', '--listen', `127.0.0.1:${port}`]);
    assert.equal(await p.exited, 1);
    const lines = p.stderr().trim().split('\n');
    assert.deepEqual(lines, [
      `error: cannot listen on 127.0.0.1:${port}: the address is already in use`,
      'hint: stop the other process or choose another port with --listen HOST:PORT (port 0 picks a free one)',
    ]);
  } finally {
    blocker.close();
  }
});

test('a missing manifest path is one clear line', async () => {
  const p = run(['apiserver', '--listen', '127.0.0.1:0', '--apply', join(dir, 'nope')]);
  assert.equal(await p.exited, 1);
  assert.match(p.stderr(), /^error: manifest path .*nope does not exist\nhint: /);
  assert.doesNotMatch(p.stderr(), /\n\s+at /);
});
