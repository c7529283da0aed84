import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadNative, NativeAddonError } from '../native/index.ts';
import { CliError } from '../shared/cli/errors.ts';

const execFileAsync = promisify(execFile);
const INSTALL_SCRIPT = fileURLToPath(new URL('../scripts/install-test-deps.sh', import.meta.url));

/**
 * Debian packages of the commands the lab runs (ip, ss, bird, birdc, socat, curl, sysctl, nginx).
 * Checked as packages, not as commands: a same-named command of another package is not what
 * the lab was written against.
 */
export const LAB_PACKAGES = ['iproute2', 'bird2', 'socat', 'curl', 'procps', 'nginx'] as const;

/** dpkg-query's format for a package's state (`installed`, `not-installed`, ...); not a template. */
const STATE_FORMAT = ['-f=$', '{db:Status-Status}'].join('');

/** Whether Debian's package `pkg` is installed (unpacked and configured). */
export async function isInstalled(pkg: string): Promise<boolean> {
  try {
    const { stdout } = await execFileAsync('dpkg-query', ['-W', STATE_FORMAT, pkg]);
    return stdout.trim() === 'installed';
  } catch {
    return false; // dpkg-query exits 1 for a package it never heard of
  }
}

/** The lab's packages that are not installed. */
export async function missingLabPackages(): Promise<string[]> {
  const missing: string[] = [];
  for (const pkg of LAB_PACKAGES) if (!(await isInstalled(pkg))) missing.push(pkg);
  return missing;
}

/**
 * The speakers answer ARP/NDP through the native addon; without it they start, report ready
 * and stay silent on the LAN, so the lab checks it first and says how to build it.
 */
export function checkNativeAddon(load: () => unknown = loadNative): void {
  try {
    load();
  } catch (error) {
    if (!(error instanceof NativeAddonError)) throw error;
    throw new CliError(error.message, { hint: error.hint });
  }
}

/**
 * Everything `metalbeacon lab` needs, checked before anything is built, each failure as one
 * CliError line with the fix: root, Debian packages (installed through
 * scripts/install-test-deps.sh when missing), network namespaces.
 */
export async function checkLabPrerequisites(say: (line: string) => void): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new CliError('metalbeacon lab needs root (it creates network namespaces and veth links)', {
      hint: 'run it as root, e.g. sudo npm run metalbeacon -- lab',
      exitCode: 1,
    });
  }
  let missing = await missingLabPackages();
  if (missing.length > 0) {
    say(`installing missing Debian packages (${missing.join(', ')}) with scripts/install-test-deps.sh`);
    try {
      await execFileAsync('bash', [INSTALL_SCRIPT], { timeout: 300_000 });
    } catch (error) {
      const e = error as { stderr?: string; message: string };
      const reason = (e.stderr || e.message).trim().split('\n').at(-1) ?? 'unknown error';
      throw new CliError(`missing Debian packages ${missing.join(', ')} could not be installed: ${reason}`, {
        hint: `install them yourself: apt-get update && apt-get install -y ${missing.join(' ')}`,
      });
    }
    missing = await missingLabPackages();
    if (missing.length > 0) {
      throw new CliError(`Debian packages still missing after installation: ${missing.join(', ')}`, {
        hint: `apt-get install -y ${missing.join(' ')}`,
      });
    }
  }
  checkNativeAddon();
  // A throwaway namespace proves the kernel (or container) lets us make them.
  const probe = `mbprobe-${randomBytes(3).toString('hex')}`;
  try {
    await execFileAsync('ip', ['netns', 'add', probe]);
  } catch (error) {
    const reason = ((error as { stderr?: string }).stderr ?? '').trim().split('\n')[0] || 'unknown error';
    throw new CliError(`cannot create network namespaces here: ${reason}`, {
      hint: 'run on a Linux host, or in a container started with --privileged (CAP_SYS_ADMIN and a writable /run/netns)',
    });
  }
  await execFileAsync('ip', ['netns', 'delete', probe]).catch(() => undefined);
}
