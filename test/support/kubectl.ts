import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { layerBinary } from '../../lab/kubectl.ts';

export { layerBinary };

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

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

/** A private HOME for kubectl with a kubeconfig in it. */
export interface KubectlHome extends ToolOptions {
  readonly kubeconfig: string;
  /** Deletes the HOME. */
  remove(): void;
}

/** A private HOME for kubectl (its discovery cache per test file) holding the server's kubeconfig. */
export function kubectlHome(server: { writeKubeconfig(path: string): void }, prefix: string): KubectlHome {
  const home = mkdtempSync(join(tmpdir(), prefix));
  const kubeconfig = join(home, 'kubeconfig');
  server.writeKubeconfig(kubeconfig);
  return { home, kubeconfig, remove: () => rmSync(home, { recursive: true, force: true }) };
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
