import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Bed, createNode, createSpeakerPod, startBed } from './harness.ts';

// `metalbeacon speaker` as a process: user errors end it with one line and a non-zero code
// (and no hanging watches); SIGTERM ends a running speaker with 0 after "speaker ready".

const BIN = fileURLToPath(new URL('../../bin/metalbeacon.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'mb-speaker-cli-'));
let bed: Bed;
let kubeconfig = '';
before(async () => {
  bed = await startBed();
  kubeconfig = join(dir, 'kubeconfig');
  bed.server.writeKubeconfig(kubeconfig);
  await createNode(bed, 'node-a', '192.0.2.11');
  await createSpeakerPod(bed, 'node-a', '127.0.0.1');
});
after(async () => {
  await bed.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stderr: string;
}

/** Runs the CLI; `onLine` may act on stderr lines (e.g. send SIGTERM once ready). */
function run(args: string[], env: NodeJS.ProcessEnv = {}, onLine?: (line: string, kill: () => void) => void) {
  return new Promise<Run>((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      stderr += text;
      for (const line of text.split('\n')) onLine?.(line, () => child.kill('SIGTERM'));
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

const common = ['--log-format', 'json', 'speaker', '--exclude-interfaces', '.*', '--bgp-listen-port', '0'];

test('no node name: one line, exit code non-zero', async () => {
  const result = await run([...common, '--kubeconfig', kubeconfig]);
  assert.notEqual(result.code, 0);
  assert.match(result.stderr.trim(), /^error: no node name/);
  assert.equal(result.stderr.trim().split('\n').length, 2); // the error and its hint
});

test('invalid node name and unreachable API server: one line each', async () => {
  const bad = await run([...common, '--kubeconfig', kubeconfig, '--node-name', 'Node_A']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /"Node_A" is not a Kubernetes Node name/);
  const hold = await run([
    ...common,
    '--kubeconfig',
    kubeconfig,
    '--node-name',
    'node-a',
    '--restart-hold',
    '61',
  ]);
  assert.notEqual(hold.code, 0);
  assert.match(hold.stderr, /--restart-hold: "61" is not an integer from 0 to 60/);
  const unreachable = join(dir, 'unreachable');
  const port = await new Promise<number>((resolve) => {
    const s = createSocket('udp4');
    s.bind(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
  writeFileSync(
    unreachable,
    readFileSync(kubeconfig, 'utf8').replace(/127\.0\.0\.1:\d+/, `127.0.0.1:${port}`),
  );
  const down = await run([...common, '--kubeconfig', unreachable, '--node-name', 'node-a']);
  assert.notEqual(down.code, 0);
  assert.match(down.stderr, /cannot reach the Kubernetes API server/);
});

test('membership port taken: one line, and the process ends (no watch left running)', async () => {
  const holder = createSocket('udp4');
  await new Promise<void>((resolve) => holder.bind(0, '127.0.0.1', () => resolve()));
  const port = holder.address().port;
  try {
    const result = await run([
      ...common,
      '--kubeconfig',
      kubeconfig,
      '--node-name',
      'node-a',
      '--membership-port',
      String(port),
      '--membership-bind-address',
      '127.0.0.1',
      '--metrics-listen',
      '127.0.0.1:0',
    ]);
    assert.notEqual(result.code, 0);
    assert.notEqual(result.code, null, 'ended by itself, not by the test timeout');
    assert.match(result.stderr, /membership: cannot bind UDP 127\.0\.0\.1:\d+: EADDRINUSE/);
  } finally {
    holder.close();
  }
});

test('SIGTERM after "speaker ready": exit 0', async () => {
  let ready = false;
  const result = await run(
    [
      ...common,
      '--kubeconfig',
      kubeconfig,
      '--membership-bind-address',
      '127.0.0.1',
      '--membership-port',
      String(bed.membershipPort),
      '--metrics-listen',
      '127.0.0.1:0',
      '--handover-ms',
      '50',
      '--bgp-shutdown-drain',
      '0',
    ],
    { NODE_NAME: 'node-a' },
    (line, kill) => {
      if (!ready && line.includes('"msg":"speaker ready"')) {
        ready = true;
        kill();
      }
    },
  );
  assert.ok(ready, result.stderr);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /"msg":"speaker stopped"/);
});
