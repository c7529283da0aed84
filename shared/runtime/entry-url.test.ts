import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { entryUrl, isBundled } from './entry-url.ts';

describe('entryUrl', () => {
  test('beside the TypeScript source, or beside the bundle', () => {
    assert.equal(
      entryUrl('file:///app/speaker/network-thread/thread.ts', './entry.ts', './speaker-worker.mjs').href,
      'file:///app/speaker/network-thread/entry.ts',
    );
    assert.equal(
      entryUrl('file:///app/dist/metalbeacon.mjs', './entry.ts', './speaker-worker.mjs').href,
      'file:///app/dist/speaker-worker.mjs',
    );
    assert.equal(isBundled(import.meta.url), false, 'this test runs from the sources');
  });
});
