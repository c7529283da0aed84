import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { kubeconfigWith } from '../shared/k8s/test-helpers.ts';

const cli = fileURLToPath(new URL('./metalbeacon.js', import.meta.url));

function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    env: { ...process.env, KUBECONFIG: '', ...env },
    timeout: 30_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('metalbeacon CLI', () => {
  it('prints help listing the global options', () => {
    const { status, stdout } = run(['--help']);
    assert.equal(status, 0);
    for (const flag of ['--log-level', '--kubeconfig', '--version', 'apiserver']) {
      assert.match(stdout, new RegExp(flag));
    }
  });

  it('prints the package version', () => {
    const { status, stdout } = run(['--version']);
    assert.equal(status, 0);
    assert.match(stdout.trim(), /^\d+\.\d+\.\d+$/);
  });

  it('rejects an unknown flag with exit code 2 and one line, no stack trace', () => {
    const { status, stderr } = run(['--no-such-flag']);
    assert.equal(status, 2);
    assert.match(stderr, /unknown option '--no-such-flag'/);
    assert.doesNotMatch(stderr, /\n\s+at /);
  });

  it('rejects an unknown flag of every subcommand in two lines: the error and where help is', () => {
    for (const command of ['apiserver', 'controller', 'speaker', 'l2', 'bgp', 'lab', 'migrate', 'status']) {
      const { status, stderr } = run([command, '--no-such-flag']);
      assert.equal(status, 2, command);
      // l2 and bgp report their missing required option first; either way, one error line.
      const [error, hint, ...rest] = stderr.trim().split('\n');
      assert.match(
        error ?? '',
        /^error: (unknown option '--no-such-flag'|required option .* not specified)$/,
      );
      assert.equal(hint, `(run metalbeacon ${command} --help for usage)`);
      assert.deepEqual(rest, [], command);
    }
  });

  it('a missing kubeconfig file: exit 1, the file named, a hint, no stack trace', () => {
    const { status, stderr } = run(['--kubeconfig', '/nonexistent/kubeconfig', 'status']);
    assert.equal(status, 1);
    assert.match(stderr, /kubeconfig \/nonexistent\/kubeconfig does not exist/);
    assert.match(stderr, /--kubeconfig/);
    assert.doesNotMatch(stderr, /\n\s+at /);
  });

  it('speaker --network-thread-priority: an integer from 0 to 99, else one line naming the flag', () => {
    for (const bad of ['100', '-1', '1.5', 'high']) {
      const { status, stderr } = run(['speaker', '--node-name', 'node-a', '--network-thread-priority', bad]);
      assert.equal(status, 1, bad);
      assert.equal(
        stderr.trim().split('\n')[0],
        `error: --network-thread-priority: "${bad}" is not an integer from 0 to 99`,
      );
    }
    // A valid one passes the option checks and fails further on, at the missing kubeconfig.
    for (const good of ['0', '1', '99']) {
      const { stderr } = run(['speaker', '--node-name', 'node-a', '--network-thread-priority', good], {
        KUBECONFIG: '/nonexistent/kubeconfig',
      });
      assert.match(stderr, /kubeconfig \/nonexistent\/kubeconfig does not exist/, good);
    }
    // Help wraps at the terminal's width: compared with its whitespace folded.
    const stdout = run(['speaker', '--help']).stdout.replace(/\s+/g, ' ');
    assert.match(stdout, /--network-thread-priority <n> .*CAP_SYS_NICE.* \(default: "1"\)/);
  });

  it('l2 --network-thread-priority: the same option as the speaker, checked before any socket opens', () => {
    const l2 = ['l2', '--announce', '198.51.100.7'];
    for (const bad of ['100', '-1', '1.5', 'high']) {
      const { status, stderr } = run([...l2, '--network-thread-priority', bad]);
      assert.equal(status, 1, bad);
      assert.equal(
        stderr.trim().split('\n')[0],
        `error: --network-thread-priority: "${bad}" is not an integer from 0 to 99`,
      );
    }
    // A valid one passes and the next bad option stops the command, still before the network.
    for (const good of ['0', '1', '99']) {
      const { status, stderr } = run([...l2, '--network-thread-priority', good, '--burst-count', 'many']);
      assert.equal(status, 1, good);
      assert.equal(stderr.trim().split('\n')[0], 'error: --burst-count: "many" is not a number >= 1', good);
    }
    const help = (command: string) => {
      const stdout = run([command, '--help']).stdout.replace(/\s+/g, ' ');
      return /--network-thread-priority <n> .*?\(default: "1"\)/.exec(stdout)?.[0];
    };
    assert.match(help('l2') ?? '', /CAP_SYS_NICE/);
    assert.equal(help('l2'), help('speaker'), 'one definition: the same help text');
  });

  it('rejects a bad log level naming the allowed ones', () => {
    const { status, stderr } = run(['--log-level', 'loud', '--help']);
    assert.equal(status, 2);
    assert.match(stderr, /loud/);
    assert.match(stderr, /debug/);
  });
});

describe('kubeconfig loading', () => {
  it('names a missing kubeconfig file; the command adds how to fix it', async () => {
    const { KubeconfigError, loadKubeClient } = await import('../shared/k8s/kubeconfig.ts');
    const { CliError } = await import('../shared/cli/errors.ts');
    const { connectToCluster } = await import('./commands/cluster.ts');
    await assert.rejects(loadKubeClient('/nonexistent/kubeconfig', {}), (error: unknown) => {
      assert.ok(
        error instanceof KubeconfigError && !(error instanceof CliError),
        'its own error, not the CLI one',
      );
      assert.equal(error.message, 'kubeconfig /nonexistent/kubeconfig does not exist');
      assert.equal(error.path, '/nonexistent/kubeconfig');
      assert.equal(error.missing, true);
      return true;
    });
    await assert.rejects(connectToCluster(undefined, { KUBECONFIG: '/nonexistent/from-env' }), {
      name: 'CliError',
      message: 'kubeconfig /nonexistent/from-env does not exist',
      hint: /--kubeconfig/,
    });
  });

  it('names an unreadable kubeconfig', async () => {
    const { loadKubeClient } = await import('../shared/k8s/kubeconfig.ts');
    const { connectToCluster } = await import('./commands/cluster.ts');
    const dir = mkdtempSync(join(tmpdir(), 'mb-kc-'));
    const file = join(dir, 'broken');
    writeFileSync(file, ': this is : not yaml : [');
    await assert.rejects(loadKubeClient(file, {}), {
      name: 'KubeconfigError',
      message: new RegExp(`cannot read kubeconfig ${file}`),
      missing: false,
    });
    await assert.rejects(connectToCluster(file, {}), { name: 'CliError', hint: /valid kubeconfig/ });
  });

  it('loads a valid kubeconfig from KUBECONFIG', async () => {
    const { loadKubeClient } = await import('../shared/k8s/kubeconfig.ts');
    const dir = mkdtempSync(join(tmpdir(), 'mb-kc-'));
    const file = join(dir, 'ok');
    writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{name: c, cluster: {server: "http://127.0.0.1:1"}}]',
        'users: [{name: u, user: {}}]',
        'contexts: [{name: x, context: {cluster: c, user: u}}]',
        'current-context: x',
      ].join('\n'),
    );
    const client = await loadKubeClient(undefined, { KUBECONFIG: file });
    assert.equal(client.server, 'http://127.0.0.1:1');
  });

  it('reads a JSON kubeconfig, and YAML flow style that starts like JSON', async () => {
    const { loadKubeClient } = await import('../shared/k8s/kubeconfig.ts');
    const dir = mkdtempSync(join(tmpdir(), 'mb-kc-'));
    writeFileSync(join(dir, 'json'), JSON.stringify(kubeconfigWith('http://127.0.0.1:2')));
    assert.equal((await loadKubeClient(join(dir, 'json'), {})).server, 'http://127.0.0.1:2');
    // Not JSON (unquoted keys), but YAML: the YAML parser still reads it.
    writeFileSync(
      join(dir, 'flow'),
      '{apiVersion: v1, kind: Config, clusters: [{name: c, cluster: {server: "http://127.0.0.1:3"}}], users: [{name: u, user: {}}], contexts: [{name: x, context: {cluster: c, user: u}}], current-context: x}',
    );
    assert.equal((await loadKubeClient(join(dir, 'flow'), {})).server, 'http://127.0.0.1:3');
  });
});

describe('API server reachability', () => {
  it('names the unreachable server in one line', async () => {
    const { createServer } = await import('node:net');
    // A port that was free a moment ago: nothing listens there.
    const probe = createServer();
    const port = await new Promise<number>((resolve) =>
      probe.listen(0, '127.0.0.1', () => resolve((probe.address() as { port: number }).port)),
    );
    await new Promise((resolve) => probe.close(resolve));
    const { KubeClient } = await import('../shared/k8s/client.ts');
    const { ensureApiServerReachable } = await import('../shared/k8s/reachability.ts');
    const client = new KubeClient({
      server: new URL(`http://127.0.0.1:${port}`),
      tls: { rejectUnauthorized: true },
      headers: async () => ({}),
    });
    await assert.rejects(ensureApiServerReachable(client, 2_000), {
      name: 'ApiUnreachableError',
      message: `cannot reach the Kubernetes API server at http://127.0.0.1:${port}: ECONNREFUSED`,
      server: `http://127.0.0.1:${port}`,
    });
  });
});
