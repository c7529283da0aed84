import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { driftReport, plannedFiles, REPO_ROOT, syncConfig } from '../../scripts/sync-config.ts';

test('deploy/kustomize/{crd,rbac} are in sync with config/ (else: npm run deploy:sync)', () => {
  assert.deepEqual(driftReport(), []);
});

test('the drift check names an edited, an added and a removed config file; sync repairs all three', () => {
  const root = mkdtempSync(join(tmpdir(), 'mb-deploy-sync-'));
  try {
    for (const dir of ['config/crd', 'config/rbac', 'deploy/kustomize/crd', 'deploy/kustomize/rbac']) {
      cpSync(join(REPO_ROOT, dir), join(root, dir), { recursive: true });
    }
    assert.deepEqual(driftReport(root), []);
    const speaker = join(root, 'config/rbac/speaker.yaml');
    writeFileSync(speaker, `${readFileSync(speaker, 'utf8')}# edited\n`);
    writeFileSync(join(root, 'config/crd/metalbeacon.io_widgets.yaml'), 'kind: CustomResourceDefinition\n');
    rmSync(join(root, 'config/crd/metalbeacon.io_bfdprofiles.yaml'));
    assert.deepEqual(driftReport(root).sort(), [
      'deploy/kustomize/crd/kustomization.yaml differs from its source in config/',
      'deploy/kustomize/crd/metalbeacon.io_bfdprofiles.yaml has no source in config/ any more',
      'deploy/kustomize/crd/metalbeacon.io_widgets.yaml is missing',
      'deploy/kustomize/rbac/speaker.yaml differs from its source in config/',
    ]);
    syncConfig(root);
    assert.deepEqual(driftReport(root), []);
    const kustomization = plannedFiles(root).get('deploy/kustomize/crd/kustomization.yaml') ?? '';
    assert.match(kustomization, /- metalbeacon\.io_widgets\.yaml\n/);
    assert.doesNotMatch(kustomization, /bfdprofiles/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
