import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO, sourceFiles, withoutComments } from './tree.ts';

// Namespace prefixes (lab/netns.ts): a lab's namespaces are PREFIX-short, and a new lab of a
// prefix first deletes every namespace named PREFIX-*, processes in it included. Two users of
// one prefix, or a prefix P with another beginning with "P-", can therefore end each other's
// runs: `npm run chaos` (prefix chaos, a soak of an hour) must survive the suite running beside
// it (test/chaos/chaos.test.ts: chaostest). Checked over every literal prefix given to a lab.

const PREFIX_USE =
  /(?:prefix: *|Lab\.create\(|startNodeLab\(|startE2eTopology\(|LAB_PREFIX = )'([a-z0-9-]+)'/g;

function prefixUses(): Map<string, Set<string>> {
  const uses = new Map<string, Set<string>>();
  for (const root of ['bench', 'bin', 'lab', 'test']) {
    for (const file of sourceFiles(join(REPO, root))) {
      const path = `${root}/${file}`;
      const text = withoutComments(readFileSync(join(REPO, path), 'utf8'));
      for (const m of text.matchAll(PREFIX_USE)) {
        const prefix = m[1] as string;
        uses.set(prefix, (uses.get(prefix) ?? new Set()).add(path));
      }
    }
  }
  return uses;
}

describe('namespace prefixes', () => {
  const uses = prefixUses();

  it('the scan finds the labs, the chaos CLI and the chaos suite test among them', () => {
    assert.ok(uses.size >= 20, [...uses.keys()].join(', '));
    assert.deepEqual([...(uses.get('chaos') ?? [])], ['bench/chaos.ts']);
    assert.deepEqual([...(uses.get('chaostest') ?? [])], ['test/chaos/chaos.test.ts']);
  });

  it('each prefix belongs to one file, and no prefix P has another starting with "P-"', () => {
    for (const [prefix, files] of uses) assert.equal(files.size, 1, `${prefix}: ${[...files].join(', ')}`);
    for (const p of uses.keys()) {
      for (const q of uses.keys()) assert.ok(!q.startsWith(`${p}-`), `${q} lies inside ${p}-*`);
    }
  });
});
