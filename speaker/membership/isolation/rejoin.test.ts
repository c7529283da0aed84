import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RejoinTracker } from './rejoin.ts';

describe('RejoinTracker', () => {
  test('a peer seen failing is reported once when it is alive again', () => {
    const tracker = new RejoinTracker();
    tracker.failed('node-b');
    assert.deepEqual(tracker.alive(['node-a']), []);
    assert.deepEqual(tracker.alive(['node-a', 'node-b']), ['node-b']);
    assert.deepEqual(tracker.alive(['node-a', 'node-b']), [], 'reported once');
  });

  test('peers that left, or were never seen failing, are not reported', () => {
    const tracker = new RejoinTracker();
    tracker.failed('node-b');
    tracker.left('node-b');
    assert.deepEqual(tracker.alive(['node-a', 'node-b', 'node-c']), []);
  });

  test('several peers back at once (our own link came back)', () => {
    const tracker = new RejoinTracker();
    tracker.failed('node-b');
    tracker.failed('node-c');
    assert.deepEqual(tracker.alive(['node-a', 'node-c', 'node-b']).sort(), ['node-b', 'node-c']);
  });
});
