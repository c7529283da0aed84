import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualTimers } from '../../shared/daemon/manual-timers.ts';
import { systemTimers } from '../../shared/daemon/timers.ts';
import { type SpeakerOptions, withDefaults } from './options.ts';

const given = { nodeName: 'node-a', namespace: 'metalbeacon-system' } as SpeakerOptions;

describe('withDefaults', () => {
  it('fills in the documented defaults: the process clock and timers, 100 ms debounce, 60 s Secret refresh', () => {
    const options = withDefaults(given);
    assert.equal(options.now, Date.now);
    assert.equal(options.timers, systemTimers);
    assert.equal(options.debounceMs, 100);
    assert.equal(options.secretRefreshMs, 60_000);
    assert.equal(options.nodeName, 'node-a');
  });

  it('keeps what was given, 0 included', () => {
    const timers = new ManualTimers();
    const now = () => 42;
    const options = withDefaults({ ...given, now, timers, debounceMs: 0, secretRefreshMs: 5 });
    assert.equal(options.now, now);
    assert.equal(options.timers, timers);
    assert.equal(options.debounceMs, 0);
    assert.equal(options.secretRefreshMs, 5);
  });
});
