import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SHIPPED_NODE_FLAGS } from '../lab/shipped-flags.ts';
import {
  SHIPPED_NODE_ARGS,
  SHIPPED_NODE_OPTIONS,
  speakerNodeArgs,
  speakerNodeOptions,
} from './speaker-flags.ts';

test('by default the speaker runs with the flags deploy/ ships (lab/shipped-flags.ts checks deploy/)', () => {
  assert.deepEqual([...speakerNodeArgs({}), speakerNodeOptions({})], SHIPPED_NODE_FLAGS.speaker);
  assert.deepEqual([SHIPPED_NODE_ARGS, SHIPPED_NODE_OPTIONS], SHIPPED_NODE_FLAGS.speaker);
});

test("SPEAKER_NODE_ARGS splits on spaces; '' runs Node's defaults", () => {
  assert.deepEqual(speakerNodeArgs({ SPEAKER_NODE_ARGS: '--max-old-space-size=64  --jitless' }), [
    '--max-old-space-size=64',
    '--jitless',
  ]);
  assert.deepEqual(speakerNodeArgs({ SPEAKER_NODE_ARGS: '' }), []);
  assert.equal(speakerNodeOptions({ SPEAKER_NODE_OPTIONS: '' }), '');
});
