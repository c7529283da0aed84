import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { validate } from 'dockerfile-utils';
import {
  DockerfileError,
  emulateCopy,
  ignoreFilter,
  parseInstructions,
  parseStages,
  type Stage,
} from './dockerfile.ts';
import { REPO_ROOT } from './sync-config.ts';

/**
 * deploy/Dockerfile without a Docker engine: linted (dockerfile-utils; hadolint is on neither
 * npm nor Debian 12), checked against the rules below, and its image tree laid out as its
 * COPY lines make it (the builder's real `npm ci --omit=dev`, offline from npm's cache) so
 * the entrypoint runs from it with production dependencies only.
 */

const run = promisify(execFile);
/** Folders the CLI imports lazily that the image leaves out on purpose: folder -> why. */
const NOT_SHIPPED: Record<string, string> = {
  'test/lab/': '`metalbeacon lab` (the network-namespace demo) needs root, iproute2 and BIRD on the host',
};
const notShipped = (path: string): boolean => Object.keys(NOT_SHIPPED).some((dir) => path.startsWith(dir));
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
    assert.ok(nodeMajor >= 24, 'Node 24 or newer runs the TypeScript sources directly');
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
    assert.deepEqual(entry.args, ['node', `${workdir(runtime)}/${pkg.bin.metalbeacon}`]);
    // Kubernetes ignores image health checks and probes /healthz and /readyz itself.
    assert.deepEqual(
      instructions(runtime, 'HEALTHCHECK').map((h) => h.args),
      [['NONE']],
    );
  });

  test('the builder installs production dependencies only, and fails when the addon is not built', () => {
    const runs = instructions(builder, 'RUN').map((r) => r.raw);
    assert.equal(runs.length, 1);
    assert.match(runs[0]!, /npm ci --omit=dev/);
    assert.match(runs[0]!, /test -f build\/Release\/metalbeacon_native\.node/);
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
      'test/lab/demo.ts',
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
    for (const dep of ['@kubernetes/client-node', 'commander', 'pino', 'yaml', 'prom-client']) {
      assert.ok(existsSync(join(tree, 'node_modules', dep, 'package.json')), dep);
    }
    const sources = files(tree).filter((f) => !f.includes(`${join(tree, 'node_modules')}`));
    assert.deepEqual(
      sources.filter((f) => f.endsWith('.test.ts')).map((f) => relative(tree, f)),
      [],
    );
    assert.ok(sources.length > 50);
    const modules = files(join(tree, 'node_modules'));
    assert.deepEqual(
      modules.filter((f) => /\.(d\.[cm]?ts|map)$/.test(f)).map((f) => relative(tree, f)),
      [],
      'no type declarations or source maps',
    );
    const bytes = (list: string[]) => list.reduce((sum, f) => sum + statSync(f).size, 0);
    // Figures for the README (printed, not asserted): the image's application layers.
    process.stdout.write(
      `# image tree: node_modules ${(bytes(modules) / 1e6).toFixed(1)} MB, sources and addon ${(bytes(sources) / 1e6).toFixed(1)} MB\n`,
    );
  });

  test('the entrypoint runs: --version, --help and a subcommand help', async () => {
    const opts = { cwd: tree, env: { PATH: dirname(node), HOME: scratch } };
    const { stdout: version } = await run(node, [join(tree, pkg.bin.metalbeacon!), '--version'], opts);
    assert.equal(version.trim(), pkg.version);
    const { stdout: help } = await run(node, [join(tree, pkg.bin.metalbeacon!), '--help'], opts);
    for (const command of ['controller', 'apiserver', 'migrate'])
      assert.match(help, new RegExp(`\\n  ${command} `));
    const { stdout: controller } = await run(
      node,
      [join(tree, pkg.bin.metalbeacon!), 'controller', '--help'],
      opts,
    );
    assert.match(controller, /--leader-elect/);
  });

  test('every import in the tree resolves inside it, with production dependencies only', async () => {
    const sources = files(tree).filter((f) => f.endsWith('.ts') && !f.includes('/node_modules/'));
    const bare = new Set<string>();
    const missing: string[] = [];
    // Static imports, dynamic imports and worker entries (new URL('./x.ts', import.meta.url)).
    const specifier = /(?:\bfrom\s*|\bimport\s*\(\s*|new URL\(\s*)'([^'\s()]+)'/g;
    for (const file of sources) {
      for (const [, spec] of readFileSync(file, 'utf8').matchAll(specifier)) {
        if (spec!.startsWith('node:')) continue;
        if (spec!.startsWith('.')) {
          const target = relative(tree, join(dirname(file), spec!));
          if (notShipped(target)) {
            // Only a subcommand's lazy import may reach a folder left out of the image.
            assert.match(
              relative(tree, file),
              /^bin\/commands\//,
              `${relative(tree, file)} imports ${target}`,
            );
            continue;
          }
          if (!existsSync(join(dirname(file), spec!))) missing.push(`${relative(tree, file)} -> ${spec}`);
        } else bare.add(spec!);
      }
    }
    assert.deepEqual(missing, []);
    assert.ok(bare.has('@kubernetes/client-node'));
    // Bare specifiers resolve from the tree's node_modules as Node would (exports maps included).
    const script = `for (const s of ${JSON.stringify([...bare])}) import.meta.resolve(s); console.log('ok');`;
    const { stdout } = await run(node, ['--input-type=module', '-e', script], {
      cwd: tree,
      env: { PATH: dirname(node), HOME: scratch },
    });
    assert.equal(stdout.trim(), 'ok');
  });

  test('the modules the subcommands load lazily, and the native addon, load from the tree', async () => {
    const lazy = new Set<string>();
    for (const file of readdirSync(join(tree, 'bin/commands'))) {
      const text = readFileSync(join(tree, 'bin/commands', file), 'utf8');
      for (const [, spec] of text.matchAll(/\bimport\(\s*'(\.[^']+)'/g)) {
        const target = relative(tree, join(tree, 'bin/commands', spec!));
        if (!notShipped(target)) lazy.add(target);
      }
    }
    assert.ok(lazy.has('controller/shell/controller.ts'), [...lazy].join(' '));
    const script = [
      `for (const m of ${JSON.stringify([...lazy])}) await import('./' + m);`,
      `const { loadNative } = await import('./native/index.ts');`,
      `if (typeof loadNative().PacketSocket !== 'function') throw new Error('no PacketSocket');`,
      `console.log('loaded', ${lazy.size});`,
    ].join('\n');
    const { stdout } = await run(node, ['--input-type=module', '-e', script], {
      cwd: tree,
      env: { PATH: dirname(node), HOME: scratch },
    });
    assert.equal(stdout.trim(), `loaded ${lazy.size}`);
  });
});
