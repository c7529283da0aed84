import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { entryUrl, isBundled } from './entry-url.ts';

describe('entryUrl', () => {
  test('beside the TypeScript source, or beside the bundle', () => {
    assert.equal(
      entryUrl('file:///app/speaker/l2/transport.ts', './worker.ts', './l2-worker.mjs').href,
      'file:///app/speaker/l2/worker.ts',
    );
    assert.equal(
      entryUrl('file:///app/dist/metalbeacon.mjs', './worker.ts', './l2-worker.mjs').href,
      'file:///app/dist/l2-worker.mjs',
    );
    assert.equal(isBundled(import.meta.url), false, 'this test runs from the sources');
  });
});
