import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualTimers, settle } from '../../shared/daemon/manual-timers.ts';
import { Lifecycle, type Loop, type RunningParts } from './lifecycle.ts';
import { capturedLog } from './test-helpers.ts';

/** Every part records its calls in one list, so the test reads the order. */
function running(restartHoldMs?: number) {
  const timers = new ManualTimers();
  const calls: string[] = [];
  const { log, messages } = capturedLog();
  const life = new Lifecycle({ log, timers, handoverMs: 1000, bgpShutdownDrainSec: 5, restartHoldMs });
  const plans = { ready: false };
  const loop = (name: string): Loop => ({
    busy: false,
    running: undefined,
    stop: async () => void calls.push(`${name} stop`),
  });
  const parts: RunningParts = {
    plans,
    loops: [loop('plans'), loop('statuses')],
    stoppers: [() => calls.push('probe timer stop')],
    membership: {
      leave: async () => void calls.push('membership leave'),
      restart: async (holdMs) => void calls.push(`membership restart ${holdMs}`),
      close: async () => void calls.push('membership close'),
    },
    bgp: {
      shutdown: async (drainMs, message) => {
        calls.push(`bgp shutdown ${drainMs} ${message}`);
        await new Promise<void>((resolve) => timers.setTimeout(resolve, drainMs));
        calls.push('bgp drained');
      },
      abort: async () => void calls.push('bgp abort'),
    },
    l2: { announced: () => ['198.51.100.1'], close: async () => void calls.push('l2 close') },
    statuses: { deleteOwn: async () => void calls.push('delete own objects') },
    events: { drained: async (ms) => void calls.push(`events drained ${ms}`) },
    informers: { stop: () => void calls.push('informers stop') },
    endpoints: { close: async () => void calls.push('endpoints close') },
  };
  return { timers, calls, life, parts, plans, messages };
}

describe('Lifecycle', () => {
  it('stop: timers, loops, leave; keeps answering for the handover window; then L2, BGP drain, cleanup', async () => {
    const { timers, calls, life, parts, messages } = running();
    life.started(parts);
    const stopped = life.stop();
    assert.equal(life.stopping, true);
    await settle();
    assert.deepEqual(calls, [
      'probe timer stop',
      'plans stop',
      'statuses stop',
      'bgp shutdown 5000 metalbeacon speaker shutting down',
      'membership leave',
    ]);
    await timers.advance(999);
    assert.ok(!calls.includes('l2 close'), 'L2 still answers during the handover');
    await timers.advance(1);
    assert.equal(calls.at(-1), 'l2 close');
    await timers.advance(4000);
    await stopped;
    assert.deepEqual(calls.slice(6), [
      'bgp drained',
      'delete own objects',
      'events drained 2000',
      'informers stop',
      'endpoints close',
    ]);
    assert.deepEqual(
      messages().filter((m) => m !== 'speaker stopped'),
      ['leaving: handing over to the other speakers', 'handover window over; withdrawing L2'],
    );
    assert.equal(life.stop(), stopped, 'once');
  });

  it('stop with restart in place: L2 answers while BGP drains, then the peers keep our IPs and L2 stops at once', async () => {
    const { timers, calls, life, parts, messages } = running(10_000);
    life.started(parts);
    const stopped = life.stop();
    await settle();
    assert.deepEqual(calls, [
      'probe timer stop',
      'plans stop',
      'statuses stop',
      'bgp shutdown 5000 metalbeacon speaker restarting',
    ]);
    await timers.advance(4999);
    assert.ok(
      !calls.some((c) => c.startsWith('membership') || c === 'l2 close'),
      'L2 answers during the drain',
    );
    await timers.advance(1);
    await stopped;
    assert.deepEqual(calls.slice(4), [
      'bgp drained',
      'membership restart 10000',
      'l2 close',
      'delete own objects',
      'events drained 2000',
      'informers stop',
      'endpoints close',
    ]);
    assert.ok(!calls.includes('membership leave'), 'no leave: the peers take nothing over');
    assert.deepEqual(
      messages().filter((m) => m !== 'speaker stopped'),
      [
        'restarting in place: draining BGP, L2 still answers',
        'the peers keep our L2 IPs for the next speaker; L2 stops',
      ],
    );
  });

  it('kill: no goodbye, no handover, no cleanup of objects; a later stop is the same kill', async () => {
    const { calls, life, parts } = running();
    life.started(parts);
    const killed = life.kill();
    await killed;
    assert.deepEqual(calls, [
      'probe timer stop',
      'plans stop',
      'statuses stop',
      'membership close',
      'bgp abort',
      'l2 close',
      'informers stop',
      'endpoints close',
    ]);
    assert.equal(life.stop(), killed);
  });

  it('die: logs, kills once, then `failed` tells the program why', async () => {
    const { calls, life, parts, messages } = running();
    life.started(parts);
    life.die('membership (network thread) died', new Error('worker exited with code 1\n    at stack'));
    life.die('the L2 packet worker (network thread) died', new Error('second'));
    const error = await life.failed;
    assert.equal(error.message, 'membership (network thread) died: worker exited with code 1');
    assert.equal(calls.filter((c) => c === 'membership close').length, 1);
    assert.deepEqual(messages(), ['membership (network thread) died; stopping so the speaker is restarted']);
  });

  it('abandon: closes what started so far and rethrows the start-up error, even if a close fails', async () => {
    const { calls, life, parts } = running();
    life.started({
      informers: parts.informers,
      endpoints: {
        close: async () => {
          calls.push('endpoints close');
          throw new Error('already closed');
        },
      },
    });
    await assert.rejects(life.abandon(new Error('HTTP 403: secrets is forbidden')), /403/);
    assert.deepEqual(calls, ['informers stop', 'endpoints close']);
    assert.equal(life.stopping, true);
  });

  it('ready: after the first plan, and no longer once stopping', async () => {
    const { life, parts, plans } = running();
    assert.equal(life.ready, false);
    life.started(parts);
    assert.equal(life.ready, false);
    plans.ready = true;
    assert.equal(life.ready, true);
    void life.kill();
    assert.equal(life.ready, false);
  });

  it('idle: waits for the loops, then for the events to be out', async () => {
    const { timers, calls, life, parts } = running();
    let finish: () => void = () => {};
    const work = new Promise<void>((resolve) => (finish = resolve));
    const busy = { busy: true, running: work as Promise<void> | undefined, stop: async () => {} };
    life.started({ ...parts, loops: [busy] });
    let idle = false;
    const done = life.idle().then(() => (idle = true));
    await timers.advance(100);
    assert.equal(idle, false);
    busy.busy = false;
    busy.running = undefined;
    finish();
    await done;
    assert.deepEqual(calls, ['events drained 2000']);
  });
});
