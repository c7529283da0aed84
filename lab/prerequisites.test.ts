import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { NativeAddonError } from '../native/index.ts';
import { CliError } from '../shared/cli/errors.ts';
import { checkNativeAddon, isInstalled, LAB_PACKAGES } from './prerequisites.ts';

const INSTALLER = fileURLToPath(new URL('../scripts/install-test-deps.sh', import.meta.url));

describe('the lab prerequisites', () => {
  it('asks the installer only for packages it installs', () => {
    const installs = execFileSync('bash', [INSTALLER, '--list'], { encoding: 'utf8' }).trim().split('\n');
    for (const pkg of LAB_PACKAGES)
      assert.ok(installs.includes(pkg), `${pkg} is not in the installer's list`);
  });

  it('tells an installed package from one that is not, by package and not by command', async () => {
    assert.equal(await isInstalled('dpkg'), true);
    assert.equal(await isInstalled('metalbeacon-no-such-package'), false);
    // iputils-arping's command has arping's name; the installer replaced it by `arping`.
    assert.equal(await isInstalled('iputils-arping'), false);
  });

  it('finds the built native addon, and names the fix when it is missing', () => {
    checkNativeAddon();
    const missing = new NativeAddonError('native addon not built: x.node is missing', 'run `npm ci`');
    assert.throws(
      () =>
        checkNativeAddon(() => {
          throw missing;
        }),
      (error: unknown) =>
        error instanceof CliError &&
        /native addon not built/.test(error.message) &&
        error.hint === 'run `npm ci`',
    );
  });
});
