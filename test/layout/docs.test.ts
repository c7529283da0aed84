import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../support/temp-dir.ts';
import { adrProblems, brokenDocReferences } from './docs.ts';
import { REPO, writeTree } from './tree.ts';

// Decisions are found by number and their status tells whether they still hold (issue 15);
// a renamed or removed document must not leave dangling references behind.

const scratch = tempDir('mb-docs-');

describe('docs', () => {
  it('every ADR is numbered once, titled with its number and has a status', () => {
    assert.deepEqual(adrProblems(REPO), []);
  });

  it('every docs/ path named in the tree exists', () => {
    assert.deepEqual(brokenDocReferences(REPO), []);
  });

  it('finds an unnumbered ADR, a number used twice, a wrong title, a missing status, a dangling reference', () => {
    const root = join(scratch, 'bad');
    writeTree(root, {
      'docs/adr/0001-first.md': '# ADR 0001: first\n\nStatus: accepted (issue 1)\n',
      'docs/adr/0001-again.md': '# ADR 0001: again\n\nStatus: superseded by ADR 0002\n',
      'docs/adr/0002-title.md': '# ADR 2: wrong title\n\nStatus: accepted\n',
      'docs/adr/0003-nostatus.md': '# ADR 0003: no status\n\nAccepted, we think.\n',
      'docs/adr/loose-notes.md': '# notes\n',
      'README.md': 'See docs/adr/0001-first.md and docs/architecture.md.\n',
      'shared/x.ts': '// why: docs/adr/0009-gone.md\nexport const x = 1;\n',
    });
    assert.deepEqual(adrProblems(root), [
      "docs/adr/0001-first.md: number 0001 is already 0001-again.md's",
      'docs/adr/0002-title.md: title is not "# ADR 0002: ..."',
      'docs/adr/0003-nostatus.md: no "Status: proposed|accepted|superseded by ADR NNNN|deprecated" line',
      'docs/adr/loose-notes.md: not named NNNN-words.md',
    ]);
    assert.deepEqual(brokenDocReferences(root).sort(), [
      'README.md: docs/architecture.md',
      'shared/x.ts: docs/adr/0009-gone.md',
    ]);
  });
});
