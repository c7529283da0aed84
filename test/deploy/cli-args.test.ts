import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { V1Container, V1EnvVar } from '@kubernetes/client-node';
import { REPO_ROOT } from '../../scripts/sync-config.ts';
import { findObject, helmTemplate, kustomizeBuild, type Manifest } from './render.ts';

/**
 * The container args and env of the manifests, given to the real CLI: every flag must be one
 * the programs accept, so each run gets as far as contacting the API server (unreachable
 * here, port 1) and stops there with the one-line error of the contracts, never at a usage
 * error.
 */

const pkgVersion = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string })
  .version;
let home: string;
let deadKubeconfig: string;

before(() => {
  home = mkdtempSync(join(tmpdir(), 'mb-deploy-cli-'));
  deadKubeconfig = join(home, 'kubeconfig');
  writeFileSync(
    deadKubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{name: dead, cluster: {server: "http://127.0.0.1:1", insecure-skip-tls-verify: true}}]',
      'contexts: [{name: dead, context: {cluster: dead}}]',
      'current-context: dead',
      'users: []',
      '',
    ].join('\n'),
  );
});
after(() => rmSync(home, { recursive: true, force: true }));

function container(objects: Manifest[], kind: string, name: string): V1Container {
  const obj = findObject(objects, kind, name) as unknown as {
    spec: { template: { spec: { containers: V1Container[] } } };
  };
  return obj.spec.template.spec.containers[0]!;
}

/** The kubelet's view: downward-API env filled in, $(VAR) expanded in args. */
function resolve(c: V1Container): { args: string[]; env: Record<string, string> } {
  const downward: Record<string, string> = {
    'spec.nodeName': 'node-a',
    'metadata.namespace': 'metalbeacon-system',
    // One address of each family: the manifests bracket them in --metrics-listen.
    'status.hostIP': '192.0.2.11',
    'status.podIP': '2001:db8::10',
  };
  const env: Record<string, string> = {};
  for (const e of c.env ?? ([] as V1EnvVar[])) {
    const path = e.valueFrom?.fieldRef?.fieldPath;
    const value = e.value ?? (path ? downward[path] : undefined);
    assert.ok(value !== undefined, `env ${e.name} has a value the test can fill`);
    env[e.name] = value;
  }
  const args = (c.args ?? []).map((a) =>
    a.replace(/\$\(([A-Z_]+)\)/g, (_, v: string) => env[v] ?? `$(${v})`),
  );
  return { args, env };
}

/** Runs bin/metalbeacon.js as the image's ENTRYPOINT would, with --kubeconfig added as a global flag. */
async function runCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [join(REPO_ROOT, 'bin/metalbeacon.js'), `--kubeconfig=${deadKubeconfig}`, ...args],
      { env: { PATH: process.env.PATH ?? '', HOME: home, ...env }, timeout: 30_000 },
      (error, _stdout, stderr) =>
        done({ code: error ? ((error as { code?: number }).code ?? -1) : 0, stderr }),
    );
  });
}

function assertReachedTheApiServer(result: { code: number; stderr: string }, what: string): void {
  assert.notEqual(result.code, 0, what);
  assert.doesNotMatch(
    result.stderr,
    /unknown option|unknown command|missing required|invalid|error: option/i,
    what,
  );
  assert.match(
    result.stderr,
    /^error: cannot reach the Kubernetes API server at http:\/\/127\.0\.0\.1:1/,
    what,
  );
}

describe('the manifests pass flags the programs accept', () => {
  test('kustomize build: controller and speaker args', async () => {
    const objects = await kustomizeBuild('deploy/kustomize/default', home);
    for (const [kind, name] of [
      ['Deployment', 'controller'],
      ['DaemonSet', 'speaker'],
      ['Job', `membership-key-${pkgVersion}`],
    ] as const) {
      const { args, env } = resolve(container(objects, kind, name));
      assertReachedTheApiServer(await runCli(args, env), `${kind} ${name}: ${args.join(' ')}`);
    }
  });

  test('helm template with every optional flag set', async () => {
    const objects = await helmTemplate(home, [
      '--set',
      'lbClass=example.com/metal,logLevel=debug,speaker.membership.profile=fast,speaker.excludeInterfaces=^(cali|veth)',
    ]);
    for (const [kind, name] of [
      ['Deployment', 'controller'],
      ['DaemonSet', 'speaker'],
    ] as const) {
      const { args, env } = resolve(container(objects, kind, name));
      assert.ok(args.includes('--lb-class=example.com/metal'), args.join(' '));
      assertReachedTheApiServer(await runCli(args, env), `${kind} ${name}: ${args.join(' ')}`);
    }
  });

  test('the check tells a usage error apart', async () => {
    const result = await runCli(['controller', '--no-such-flag'], {});
    assert.equal(result.code, 2);
    assert.match(result.stderr, /unknown option '--no-such-flag'/);
  });
});
