import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { validate } from 'dockerfile-utils';
import { stringify as stringifyYaml } from 'yaml';
import { REPO_ROOT } from '../../scripts/sync-config.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import {
  createCr,
  createNode,
  createSpeakerPod,
  listCrs,
  setEndpoints,
  startBed,
} from '../speaker/harness.ts';
import {
  DockerfileError,
  emulateCopy,
  ignoreFilter,
  parseInstructions,
  parseStages,
  type Stage,
} from './dockerfile.ts';

/**
 * deploy/Dockerfile without a Docker engine: linted (dockerfile-utils; hadolint is on neither
 * npm nor Debian 12), checked against the rules below, and its image tree laid out as its
 * COPY lines make it (the builder's real command — npm ci, the esbuild bundle, npm prune —
 * offline from npm's cache), so the controller and the speaker run from it with production
 * dependencies only.
 */

const run = promisify(execFile);
/** What the image runs, and the files the bundle's modules look for beside it. */
const BUNDLE = ['dist/metalbeacon.mjs', 'dist/speaker-worker.mjs'];
const DOCKERFILE = join(REPO_ROOT, 'deploy/Dockerfile');
const IGNORE = join(REPO_ROOT, 'deploy/Dockerfile.dockerignore');
const text = readFileSync(DOCKERFILE, 'utf8');
const stages = parseStages(text);
const builder = stages[0]!;
const runtime = stages.at(-1)!;
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  version: string;
  bin: Record<string, string>;
  devDependencies: Record<string, string>;
};

function instructions(stage: Stage, keyword: string) {
  return stage.instructions.filter((i) => i.keyword === keyword);
}
function workdir(stage: Stage): string {
  const w = instructions(stage, 'WORKDIR');
  assert.equal(w.length, 1, `stage ${stage.name} sets WORKDIR once`);
  return w[0]!.args[0]!;
}

describe('deploy/Dockerfile rules', () => {
  test('dockerfile-utils finds no problem', () => {
    const problems = validate(text).map((d) => `line ${d.range.start.line + 1}: ${d.message}`);
    assert.deepEqual(problems, []);
    // The linter is awake: it flags a broken file.
    assert.deepEqual(
      validate('FROM node:24\nEXPOSE notaport\nCOPY\n').map((d) => d.message),
      ['Invalid containerPort: notaport', 'COPY requires at least two arguments'],
    );
  });

  test('two stages; base images pinned to an exact Node release, same Node and Debian in both', () => {
    assert.equal(stages.length, 2);
    assert.equal(builder.name, 'builder');
    for (const stage of stages) {
      assert.match(stage.image, /^node:\d+\.\d+\.\d+-[a-z]+(-slim)?(@sha256:[0-9a-f]{64})?$/, stage.image);
    }
    assert.equal(runtime.image, `${builder.image}-slim`, 'the runtime is the slim variant of the builder');
    const nodeMajor = Number(/^node:(\d+)/.exec(builder.image)?.[1]);
    assert.ok(nodeMajor >= 24, "Node 24 or newer, the project's runtime");
  });

  test('the runtime stage runs nothing at build time, adds nothing by URL, runs as a non-root user', () => {
    assert.deepEqual(
      instructions(runtime, 'RUN'),
      [],
      'no RUN: its files come from the builder or the context',
    );
    for (const stage of stages) assert.deepEqual(instructions(stage, 'ADD'), [], `no ADD in ${stage.name}`);
    const users = instructions(runtime, 'USER');
    assert.equal(users.length, 1);
    const [uid, gid] = (users[0]!.args[0] ?? '').split(':');
    assert.match(uid ?? '', /^\d+$/, 'numeric, so runAsNonRoot can verify it');
    assert.notEqual(Number(uid), 0);
    assert.notEqual(Number(gid ?? '0'), 0);
    const entry = instructions(runtime, 'ENTRYPOINT')[0];
    assert.ok(entry, 'ENTRYPOINT is set');
    assert.ok(entry.raw.startsWith('['), 'ENTRYPOINT in JSON form (signals reach node, not a shell)');
    assert.ok(users[0]!.line < entry.line, 'USER before ENTRYPOINT');
    assert.deepEqual(entry.args, ['node', `${workdir(runtime)}/${BUNDLE[0]}`]);
    // Kubernetes ignores image health checks and probes /healthz and /readyz itself.
    assert.deepEqual(
      instructions(runtime, 'HEALTHCHECK').map((h) => h.args),
      [['NONE']],
    );
  });

  test('the builder bundles, keeps production dependencies only, and fails when the addon is not built', () => {
    const runs = instructions(builder, 'RUN').map((r) => r.raw);
    assert.equal(runs.length, 1);
    const steps = runs[0]!.split('&&').map((step) => step.replace(/\\\n/g, ' ').trim());
    assert.match(steps[0]!, /^npm ci\b/);
    assert.match(steps[1]!, /^test -f build\/Release\/metalbeacon_native\.node$/);
    assert.equal(steps[2], 'npm run build');
    assert.match(steps[3]!, /^npm prune --omit=dev\b/, 'dev dependencies go after the build');
    for (const copy of instructions(runtime, 'COPY')) {
      if (copy.flags.from !== undefined) assert.equal(copy.flags.from, builder.name, `line ${copy.line}`);
    }
  });

  test('the parser refuses what it does not understand, naming the line', () => {
    assert.throws(() => parseStages('RUN true\n'), /line 1: RUN before the first FROM/);
    assert.throws(() => parseStages('FROM node:$' + '{V}\n'), /line 1: \$\{V\} has no ARG default/);
    assert.throws(() => parseInstructions('FROM a\nCMD ["x"\n'), /line 2: CMD: invalid JSON array/);
    assert.ok(new DockerfileError(3, 'x').message.includes('line 3'));
  });

  test('the ignore file keeps sources and drops tests, node_modules, build output and git', () => {
    const ignored = ignoreFilter(readFileSync(IGNORE, 'utf8'));
    for (const kept of [
      'package.json',
      'scripts/build.ts',
      'bin/metalbeacon.js',
      'shared/net/ip.ts',
      'native/packet-socket.cc',
      'config/crd/metalbeacon.io_ipaddresspools.yaml',
    ]) {
      assert.equal(ignored(kept), false, kept);
    }
    for (const dropped of [
      'shared/net/ip.test.ts',
      'node_modules/yaml/package.json',
      'build/Release/metalbeacon_native.node',
      '.git/HEAD',
      'lab/demo.ts',
      'config/samples/l2-ingress-pool.yaml',
      'README.md',
    ]) {
      assert.equal(ignored(dropped), true, dropped);
    }
  });
});

describe('the image tree, laid out as the Dockerfile makes it', () => {
  let scratch: string;
  let tree: string;
  const node = process.execPath;

  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'mb-deploy-image-'));
    const buildDir = join(scratch, 'builder');
    tree = join(scratch, 'app');
    mkdirSync(buildDir);
    mkdirSync(tree);
    const ignored = ignoreFilter(readFileSync(IGNORE, 'utf8'));
    const context = { dir: REPO_ROOT, workdir: '/', ignored };
    const builderTarget = { dir: buildDir, workdir: workdir(builder) };
    for (const ins of builder.instructions) {
      if (ins.keyword === 'COPY') emulateCopy(ins, builderTarget, context);
      if (ins.keyword === 'RUN') {
        // The builder's own command, offline from npm's cache (filled by the project's npm ci),
        // with this Node 24 first on the PATH so node-gyp builds for it.
        await run('sh', ['-c', ins.raw], {
          cwd: buildDir,
          env: {
            ...process.env,
            PATH: `${dirname(node)}${delimiter}${process.env.PATH ?? ''}`,
            npm_config_offline: 'true',
          },
          maxBuffer: 64 * 1024 * 1024,
        });
      }
    }
    for (const ins of instructions(runtime, 'COPY')) {
      const from = ins.flags.from === undefined ? context : { dir: buildDir, workdir: workdir(builder) };
      emulateCopy(ins, { dir: tree, workdir: workdir(runtime) }, from);
    }
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  function files(dir: string): string[] {
    const out: string[] = [];
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) out.push(...files(path));
      else out.push(path);
    }
    return out;
  }

  test('holds production dependencies, the native addon, and no tests or dev dependencies', () => {
    assert.ok(existsSync(join(tree, 'build/Release/metalbeacon_native.node')));
    // Packages only dev dependencies need (package-lock marks them "dev": true); some dev
    // dependencies, such as @types/node, are also needed by production ones and stay.
    const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const devOnly = Object.entries(lock.packages)
      .filter(([path, entry]) => path.startsWith('node_modules/') && entry.dev === true)
      .map(([path]) => path);
    assert.ok(devOnly.includes('node_modules/typescript'), 'typescript is a dev-only package');
    for (const path of devOnly) assert.equal(existsSync(join(tree, path)), false, `${path} is absent`);
    for (const dev of Object.keys(pkg.devDependencies)) {
      if (devOnly.includes(`node_modules/${dev}`)) continue;
      assert.ok(lock.packages[`node_modules/${dev}`], `${dev} is in the lock`);
    }
    for (const dep of ['@kubernetes/client-node', 'commander', 'pino', 'yaml']) {
      assert.ok(existsSync(join(tree, 'node_modules', dep, 'package.json')), dep);
    }
    const sources = files(tree).filter((f) => !f.includes(`${join(tree, 'node_modules')}`));
    for (const file of BUNDLE) assert.ok(existsSync(join(tree, file)), file);
    assert.ok(existsSync(join(tree, 'config/crd/metalbeacon.io_ipaddresspools.yaml')));
    assert.deepEqual(
      sources.filter((f) => f.endsWith('.ts')).map((f) => relative(tree, f)),
      [],
      'no TypeScript: the bundle is all the image runs',
    );
    const modules = files(join(tree, 'node_modules'));
    assert.deepEqual(
      modules.filter((f) => /\.(d\.[cm]?ts|map)$/.test(f)).map((f) => relative(tree, f)),
      [],
      'no type declarations or source maps',
    );
    const bytes = (list: string[]) => list.reduce((sum, f) => sum + statSync(f).size, 0);
    // Figures for the README (printed, not asserted): the image's application layers.
    process.stdout.write(
      `# image tree: node_modules ${(bytes(modules) / 1e6).toFixed(1)} MB, bundle, CRDs and addon ${(bytes(sources) / 1e6).toFixed(1)} MB\n`,
    );
  });

  test('the entrypoint runs: --version, --help and a subcommand help', async () => {
    const opts = { cwd: tree, env: { PATH: dirname(node), HOME: scratch } };
    const { stdout: version } = await run(node, [join(tree, BUNDLE[0]!), '--version'], opts);
    assert.equal(version.trim(), pkg.version);
    const { stdout: help } = await run(node, [join(tree, BUNDLE[0]!), '--help'], opts);
    for (const command of ['controller', 'apiserver', 'migrate'])
      assert.match(help, new RegExp(`\\n  ${command} `));
    const { stdout: controller } = await run(node, [join(tree, BUNDLE[0]!), 'controller', '--help'], opts);
    assert.match(controller, /--leader-elect/);
  });

  test("the bundle's own imports: Node's modules, pino from the tree's node_modules, and the lab left out", async () => {
    const bare = new Set<string>();
    const modules = readdirSync(join(tree, 'dist')).filter((f) => f.endsWith('.mjs'));
    assert.ok(modules.length > BUNDLE.length, 'entries and their chunks');
    for (const file of modules) {
      const text = readFileSync(join(tree, 'dist', file), 'utf8');
      for (const [, spec] of text.matchAll(/(?:^import [^;]*? from |^import |\bimport\()"([^"]+)"/gm)) {
        if (spec!.startsWith('node:')) continue;
        if (spec!.startsWith('./')) assert.ok(modules.includes(spec!.slice(2)), `${file} imports ${spec}`);
        else if (spec!.startsWith('.')) assert.match(spec!, /^\.\.\/lab\//, `${file} imports ${spec}`);
        else bare.add(spec!);
      }
    }
    assert.ok(bare.has('pino'), [...bare].join(' '));
    const script = `for (const s of ${JSON.stringify([...bare])}) import.meta.resolve(s); console.log('ok');`;
    const { stdout } = await run(node, ['--input-type=module', '-e', script], {
      cwd: join(tree, 'dist'),
      env: { PATH: dirname(node), HOME: scratch },
    });
    assert.equal(stdout.trim(), 'ok');
    await assert.rejects(
      run(node, [join(tree, BUNDLE[0]!), 'lab'], { cwd: tree, env: { PATH: dirname(node) } }),
      {
        stderr: /metalbeacon lab runs from a source checkout/,
      },
    );
  });

  test('from the tree, the controller assigns an IP and the speaker starts both Workers, announces and stops cleanly', async () => {
    const bed = await startBed();
    const dir = mkdtempSync(join(scratch, 'run-'));
    // The speaker reads the JSON kubeconfig the server writes, the controller the same as YAML:
    // both ways of reading one, through the bundle.
    const kubeconfig = join(dir, 'kubeconfig');
    bed.server.writeKubeconfig(kubeconfig);
    const yamlKubeconfig = join(dir, 'kubeconfig.yaml');
    writeFileSync(yamlKubeconfig, stringifyYaml(JSON.parse(bed.server.kubeconfigText)));
    const children: ChildProcess[] = [];
    const start = (args: string[], config = kubeconfig) => {
      const child = spawn(
        node,
        [join(tree, BUNDLE[0]!), '--log-format', 'json', '--kubeconfig', config, ...args],
        {
          cwd: tree,
          env: { PATH: dirname(node), HOME: scratch },
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      let log = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        log += chunk.toString();
      });
      children.push(child);
      return {
        child,
        log: () => log,
        exited: once(child, 'exit') as Promise<[number | null, string | null]>,
      };
    };
    try {
      await createNode(bed, 'node-a', '192.0.2.11');
      await createSpeakerPod(bed, 'node-a', '127.0.0.1');
      await createCr(bed, 'IPAddressPool', 'ipaddresspools', 'pool', { addresses: ['198.51.100.0/28'] });
      await createCr(bed, 'L2Advertisement', 'l2advertisements', 'l2', {});
      await bed.core.createNamespacedService({
        namespace: 'default',
        body: {
          metadata: { name: 'web' },
          spec: { type: 'LoadBalancer', ports: [{ port: 80, protocol: 'TCP' }], selector: { app: 'web' } },
        },
      });
      await setEndpoints(bed, 'web', ['node-a']);
      start(['controller', '--no-leader-elect', '--metrics-listen', '127.0.0.1:0'], yamlKubeconfig);
      const ip = await waitFor('an IP from the controller run from the tree', async () => {
        const service = await bed.core.readNamespacedService({ name: 'web', namespace: 'default' });
        return service.status?.loadBalancer?.ingress?.[0]?.ip;
      });
      assert.match(ip, /^198\.51\.100\./);
      const speaker = start([
        ...['speaker', '--node-name', 'node-a', '--membership-bind-address', '127.0.0.1'],
        ...['--membership-port', String(bed.membershipPort), '--metrics-listen', '127.0.0.1:0'],
        ...['--exclude-interfaces', '.*', '--bgp-listen-port', '0'],
      ]);
      // The ServiceL2Status exists once the plan was applied, which needs both Workers (membership
      // settles before planning; the L2 announcer runs in the packet worker).
      await waitFor('the ServiceL2Status of the speaker run from the tree', async () => {
        const objects = await listCrs(bed, 'servicel2statuses');
        return objects.length === 1 || undefined;
      });
      assert.match(speaker.log(), /membership settled/);
      speaker.child.kill('SIGTERM');
      const [code] = await speaker.exited;
      assert.equal(code, 0, speaker.log());
    } finally {
      for (const child of children)
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await Promise.all(children.map((child) => (child.exitCode === null ? once(child, 'exit') : undefined)));
      await bed.close();
    }
  });
});
