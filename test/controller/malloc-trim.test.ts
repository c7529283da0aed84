import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadNative } from '../../native/index.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import { withBed } from './harness.ts';

// The controller's private memory grew for an hour of API server restarts while its V8 heap
// stayed flat: what glibc keeps after the reconnections and relists (bench/controller-memory.ts
// measures it). The controller now trims as the speaker does; this keeps the wiring.
describe('controller: freed malloc memory goes back to the kernel', () => {
  it('trims on its interval through API server restarts, and no more once stopped', async () => {
    const native = loadNative().trimMalloc;
    let calls = 0;
    const trim = (): boolean => {
      calls++;
      return native();
    };
    await withBed(async (bed) => {
      const controller = await bed.startController({ mallocTrim: { intervalMs: 20, trim } });
      await waitFor('the first trims', () => (calls >= 3 ? true : undefined));
      await bed.server.restart({ downMs: 200 });
      const before = calls;
      await waitFor('trims after the restart', () => (calls >= before + 3 ? true : undefined));
      await controller.stop();
      const atStop = calls;
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(calls, atStop, 'a stopped controller trims no more');
    });
  });
});
