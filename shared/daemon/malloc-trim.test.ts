import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it, mock } from 'node:test';
import { NATIVE_ADDON_PATH } from '../../native/index.ts';
import { trimMallocEvery } from './malloc-trim.ts';

describe('trimMallocEvery', () => {
  it('trims every interval until stopped', () => {
    mock.timers.enable({ apis: ['setInterval'] });
    try {
      let calls = 0;
      const stop = trimMallocEvery(1000, () => {
        calls++;
        return true;
      });
      mock.timers.tick(999);
      assert.equal(calls, 0);
      mock.timers.tick(2001);
      assert.equal(calls, 3);
      stop();
      mock.timers.tick(5000);
      assert.equal(calls, 3);
    } finally {
      mock.timers.reset();
    }
  });

  it('the native trim gives freed malloc memory back to the kernel', () => {
    // 40 MB in small buffers (below glibc's mmap threshold, so they come from the arenas),
    // freed; the resident anonymous memory before and after trimMalloc.
    const script = `
      const addon = require(${JSON.stringify(NATIVE_ADDON_PATH)});
      const anonMb = () => Number(/RssAnon:\\s+(\\d+)/.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'))[1]) / 1024;
      let held = [];
      for (let i = 0; i < 20000; i++) held.push(Buffer.allocUnsafeSlow(2000 + (i % 7) * 100));
      held = null;
      globalThis.gc();
      setTimeout(() => {
        globalThis.gc();
        const before = anonMb();
        const released = addon.trimMalloc();
        console.log(JSON.stringify({ released, before, after: anonMb() }));
      }, 200);`;
    const out = execFileSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8' });
    const { released, before, after } = JSON.parse(out) as {
      released: boolean;
      before: number;
      after: number;
    };
    assert.equal(released, true);
    assert.ok(before - after > 20, `RssAnon ${before.toFixed(1)} MB -> ${after.toFixed(1)} MB`);
  });
});
