import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { EventRecorder } from '../../shared/daemon/event-recorder.ts';
import { withBed } from './harness.ts';

describe('EventRecorder against the API server', () => {
  it('aggregates identical events into one Event with a count', async () => {
    await withBed(async (bed) => {
      let now = Date.parse('2026-11-22T05:00:00Z');
      const recorder = new EventRecorder({
        client: bed.client,
        log: pino({ level: 'silent' }),
        component: 'metalbeacon-controller',
        now: () => now,
        aggregation: 'count',
      });
      const target = { apiVersion: 'v1', kind: 'Service', namespace: 'default', name: 'web', uid: 'u1' };
      const failed = {
        type: 'Warning' as const,
        reason: 'AllocationFailed',
        message: 'no IP available: pool p: Exhausted',
      };
      recorder.post(target, failed);
      await recorder.drained();
      now += 60_000;
      recorder.post(target, failed);
      recorder.post(target, {
        type: 'Normal',
        reason: 'IPAllocated',
        message: 'Assigned IP 198.51.100.1 from pool p',
      });
      await recorder.drained();
      const events = (await bed.core.listNamespacedEvent({ namespace: 'default' })).items;
      const byReason = new Map(events.map((e) => [e.reason, e]));
      assert.equal(events.length, 2);
      const aggregated = byReason.get('AllocationFailed');
      assert.equal(aggregated?.count, 2);
      assert.equal(aggregated?.type, 'Warning');
      assert.equal(aggregated?.involvedObject.name, 'web');
      assert.equal(new Date(aggregated?.lastTimestamp ?? 0).toISOString(), '2026-11-22T05:01:00.000Z');
      assert.equal(new Date(aggregated?.firstTimestamp ?? 0).toISOString(), '2026-11-22T05:00:00.000Z');
      assert.equal(byReason.get('IPAllocated')?.count, 1);
    });
  });

  it("with 'changes' aggregation posts only changed messages per object, reason and topic", async () => {
    await withBed(async (bed) => {
      const recorder = new EventRecorder({
        client: bed.client,
        log: pino({ level: 'silent' }),
        component: 'metalbeacon-speaker',
        now: () => Date.parse('2026-11-22T05:00:00Z'),
        aggregation: 'changes',
      });
      const target = { apiVersion: 'v1', kind: 'Service', namespace: 'default', name: 'web', uid: 'u1' };
      const failed = (message: string) => ({ type: 'Warning' as const, reason: 'announceFailed', message });
      for (let i = 0; i < 20; i++) recorder.post(target, failed('peer a down'), 'peer-a');
      recorder.post(target, failed('peer b down'), 'peer-b');
      recorder.post(target, failed('peer a refused'), 'peer-a');
      await recorder.drained();
      const events = (await bed.core.listNamespacedEvent({ namespace: 'default' })).items;
      assert.deepEqual(events.map((e) => e.message).sort(), ['peer a down', 'peer a refused', 'peer b down']);
      assert.ok(events.every((e) => e.count === 1 && e.source?.component === 'metalbeacon-speaker'));
    });
  });
});
