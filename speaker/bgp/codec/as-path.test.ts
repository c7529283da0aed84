import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { asPathLength, mergeAs4Path } from './as-path.ts';
import type { AsPathSegment } from './types.ts';

describe('AS paths with confederation segments (RFC 5065)', () => {
  const confed: AsPathSegment[] = [
    { type: 'confed-sequence', asns: [65010, 65011] },
    { type: 'confed-set', asns: [65012] },
  ];

  it('confederation segments count nothing in path length (RFC 5065 §5.3)', () => {
    assert.equal(
      asPathLength([...confed, { type: 'sequence', asns: [1, 2] }, { type: 'set', asns: [3, 4] }]),
      3,
    );
  });

  it('merging AS4_PATH keeps the leading confederation segments of AS_PATH (RFC 6793 §4.2.3)', () => {
    const asPath: AsPathSegment[] = [...confed, { type: 'sequence', asns: [65001, 23456] }];
    const as4Path: AsPathSegment[] = [{ type: 'sequence', asns: [4200000001] }];
    assert.deepStrictEqual(mergeAs4Path(asPath, as4Path), [
      ...confed,
      { type: 'sequence', asns: [65001] },
      { type: 'sequence', asns: [4200000001] },
    ]);
  });
});
