import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { waitFor } from '../../shared/runtime/wait-for.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'metalbeacon-apiserver-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the CLI; `wrapper` (e.g. `unshare --net`) runs it inside another program. */
function run(args: string[], wrapper: string[] = []) {
  const command = [...wrapper, process.execPath, 'bin/metalbeacon.js', '--log-format', 'json', ...args];
  const child = spawn(command[0]!, command.slice(1), {
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

test('a non-loopback --listen is refused (no authentication) unless explicitly allowed', async () => {
  for (const listen of ['0.0.0.0:0', '[::]:0', '192.0.2.1:6443']) {
    const p = run(['apiserver', '--listen', listen]);
    assert.equal(await p.exited, 1, listen);
    const lines = p.stderr().trim().split('\n');
    assert.match(
      lines[0] ?? '',
      /^error: --listen .* is reachable from the network \(.*\): the embedded API server has no authentication, so anyone who reaches it controls the cluster$/,
    );
    assert.equal(
      lines[1],
      'hint: listen on loopback (--listen 127.0.0.1:6443), or accept that risk with --allow-unauthenticated-network-access',
    );
  }
  // A name is judged by every address it resolves to: localhost is loopback only.
  const local = run(['apiserver', '--listen', 'localhost:0']);
  try {
    await waitForLine(local, /serving the Kubernetes API/);
  } finally {
    local.child.kill('SIGTERM');
  }
  assert.equal(await local.exited, 0);
});

test('--allow-unauthenticated-network-access listens on every address, with a warning', async () => {
  // In a network namespace of its own, so nothing outside this test can reach it meanwhile.
  const p = run(
    ['apiserver', '--listen', '0.0.0.0:0', '--allow-unauthenticated-network-access'],
    ['unshare', '--net'],
  );
  try {
    await waitForLine(p, /serving the Kubernetes API on http:\/\/0\.0\.0\.0:\d+/);
    assert.match(
      p.stderr(),
      /"level":40.*unauthenticated network access allowed: anyone who reaches this port controls the cluster/,
    );
  } finally {
    p.child.kill('SIGTERM');
  }
  assert.equal(await p.exited, 0);
});

/** Waits for a line of the process's log; gives up (with the log) if it exits first. */
async function waitForLine(p: ReturnType<typeof run>, pattern: RegExp): Promise<void> {
  await waitFor(`${pattern} in the log`, () => {
    if (p.child.exitCode !== null) throw new Error(`exited early: ${p.stderr()}`);
    return pattern.test(p.stderr());
  });
}
