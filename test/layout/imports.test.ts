import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../support/temp-dir.ts';
import { partReferences, REPO, referencesIntoTest, writeTree } from './tree.ts';

// Product code never depends on tests: nothing outside test/ imports from it or runs a file in
// it (STYLE.md, Layout). And the parts depend on each other in one direction only.

/** Top-level folder → the top-level folders its files may refer to (besides itself). */
const MAY_USE: Record<string, readonly string[]> = {
  native: [],
  shared: ['native'],
  controller: ['shared', 'native'],
  speaker: ['shared', 'native'],
  apiserver: ['shared'],
  lab: ['apiserver', 'shared', 'native'],
  bin: ['controller', 'speaker', 'apiserver', 'lab', 'shared', 'native'],
  bench: ['controller', 'speaker', 'apiserver', 'lab', 'shared', 'native'],
  scripts: ['shared'],
  test: ['bin', 'controller', 'speaker', 'apiserver', 'lab', 'shared', 'native', 'scripts', 'bench'],
};

const scratch = tempDir('mb-layout-');

describe('imports between the parts of the tree', () => {
  it('nothing outside test/ imports from test/ or runs a file in it', () => {
    assert.deepEqual(referencesIntoTest(REPO), []);
  });

  it('finds such a reference: an import, a dynamic import, a file run through import.meta.url', () => {
    const root = join(scratch, 'violations');
    writeTree(root, {
      'lab/bad.ts': "import { waitFor } from '../test/support/wait.ts';\nexport const w = waitFor;\n",
      'lab/nested/lazy.ts': "export const load = () => import('../../test/e2e/harness.ts');\n",
      'bench/run.ts': "const PROBE = new URL('../test/l2/fixtures/probe.ts', import.meta.url);\n",
      'shared/ok.ts': "import { x } from './other.ts';\nexport const y = x;\n",
      'test/ok.test.ts': "import { Lab } from '../lab/netns.ts';\nimport { h } from './support/h.ts';\n",
      // Prose is not an import.
      'speaker/doc.ts': '/** Tested by test/speaker/cli.test.ts. */\nexport const z = 1;\n',
    });
    assert.deepEqual(
      referencesIntoTest(root).map((r) => `${r.file} -> ${r.reference}`),
      [
        'bench/run.ts -> ../test/l2/fixtures/probe.ts',
        'lab/bad.ts -> ../test/support/wait.ts',
        'lab/nested/lazy.ts -> ../../test/e2e/harness.ts',
      ],
    );
  });

  it('each part uses only the parts below it (bin -> programs, API server, lab -> shared, native)', () => {
    const wrong = partReferences(REPO)
      .filter((r) => r.code && r.from !== r.to && !(MAY_USE[r.from] ?? []).includes(r.to))
      .map((r) => `${r.file} -> ${r.reference}`);
    assert.deepEqual(wrong, []);
  });

  it('the two programs never import each other', () => {
    const across = partReferences(REPO).filter(
      (r) =>
        (r.from === 'controller' && r.to === 'speaker') || (r.from === 'speaker' && r.to === 'controller'),
    );
    assert.deepEqual(across, []);
  });
});
