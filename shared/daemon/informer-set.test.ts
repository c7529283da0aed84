import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import type { InformerVerb } from '../k8s/informer.ts';
import { InformerSet, type SetMember } from './informer-set.ts';
import { ManualTimers, settle } from './manual-timers.ts';

/**
 * An informer as the set sees it (shared/k8s/informer.ts's contract): `start()` resolves after
 * its first LIST whether or not it worked, a failure goes to the `error` callbacks and stops it.
 * The first `failLists` LISTs fail. The real Informer against the embedded API server failing its
 * first LISTs: test/controller/restore.test.ts and test/speaker/status.test.ts.
 */
class ScriptedInformer implements SetMember<string> {
  failLists: number;
  starts = 0;
  running = false;
  #listed = false;
  readonly #callbacks = new Map<string, ((value: never) => void)[]>();

  constructor(failLists = 0) {
    this.failLists = failLists;
  }

  on(verb: InformerVerb, callback: (object: string) => void): void;
  on(verb: 'error', callback: (error: unknown) => void): void;
  on(verb: string, callback: (value: never) => void): void {
    this.#callbacks.set(verb, [...(this.#callbacks.get(verb) ?? []), callback]);
  }

  get hasSynced(): boolean {
    return this.#listed;
  }

  async start(): Promise<void> {
    this.starts++;
    await Promise.resolve();
    if (this.failLists > 0) {
      this.failLists--;
      this.fail(new Error('HTTP 500: list refused'));
      return;
    }
    this.#listed = true;
    this.running = true;
  }

  stop(): void {
    this.running = false;
  }

  emit(verb: InformerVerb, object: string): void {
    for (const callback of this.#callbacks.get(verb) ?? []) callback(object as never);
  }

  /** A failure as the real informer reports it: it stops, then tells the error callbacks. */
  fail(error: Error): void {
    this.running = false;
    for (const callback of this.#callbacks.get('error') ?? []) callback(error as never);
  }
}

const log = pino({ level: 'silent' });

function setOf(...informers: ScriptedInformer[]) {
  const timers = new ManualTimers();
  let stopping = false;
  const set = new InformerSet({ log, timers, restartDelayMs: 1000, stopping: () => stopping });
  for (const [i, informer] of informers.entries()) set.add(`informer-${i}`, informer);
  return { set, timers, setStopping: () => (stopping = true) };
}

describe('InformerSet', () => {
  it('is synced only once every first LIST succeeded, retrying failed ones after the pause', async () => {
    const healthy = new ScriptedInformer();
    const flaky = new ScriptedInformer(2);
    const { set, timers } = setOf(healthy, flaky);
    let started = false;
    void set.start().then(() => (started = true));
    await settle();
    assert.equal(started, false, 'the failed LIST leaves the set unsynced');
    assert.equal(set.synced, false);
    assert.deepEqual(set.unsynced, ['informer-1']);
    await timers.advance(999);
    assert.equal(flaky.starts, 1, 'no retry before the pause');
    await timers.advance(1);
    assert.equal(flaky.starts, 2);
    assert.equal(started, false, 'the second LIST failed too');
    await timers.advance(1000);
    assert.equal(flaky.starts, 3);
    assert.equal(started, true);
    assert.equal(set.synced, true);
    assert.deepEqual(set.unsynced, []);
    assert.equal(healthy.starts, 1, 'a healthy informer is started once');
  });

  it('passes changes on only once synced and until the owner is stopping', async () => {
    const first = new ScriptedInformer();
    const second = new ScriptedInformer(1);
    const { set, timers, setStopping } = setOf(first, second);
    const seen: string[] = [];
    set.onChange(first, (object) => seen.push(`first:${object}`));
    set.onChange(second, (object) => seen.push(`second:${object}`));
    const starting = set.start();
    await settle();
    first.emit('add', 'early');
    assert.deepEqual(seen, [], 'the cache of a set that is not synced says nothing');
    await timers.advance(1000);
    await starting;
    first.emit('update', 'a');
    second.emit('delete', 'b');
    assert.deepEqual(seen, ['first:a', 'second:b']);
    setStopping();
    first.emit('add', 'late');
    assert.deepEqual(seen, ['first:a', 'second:b']);
  });

  it('restarts an informer whose watch failed after sync; stop() cancels a pending restart', async () => {
    const informer = new ScriptedInformer();
    const { set, timers } = setOf(informer);
    await set.start();
    informer.fail(new Error('watch cut'));
    await timers.advance(1000);
    assert.equal(informer.starts, 2);
    assert.equal(informer.running, true);
    informer.fail(new Error('watch cut again'));
    set.stop();
    await timers.advance(10_000);
    assert.equal(informer.starts, 2, 'no restart after stop()');
    assert.equal(informer.running, false);
    assert.equal(timers.pending, 0);
  });

  it('does not restart while the owner is stopping', async () => {
    const informer = new ScriptedInformer();
    const { set, timers, setStopping } = setOf(informer);
    await set.start();
    setStopping();
    informer.fail(new Error('watch cut'));
    await timers.advance(10_000);
    assert.equal(informer.starts, 1);
  });

  it('start() rejects, naming what never listed, when stopped first', async () => {
    const informer = new ScriptedInformer(Number.POSITIVE_INFINITY);
    const { set, timers } = setOf(new ScriptedInformer(), informer);
    const starting = set.start();
    await timers.advance(3000);
    set.stop();
    await assert.rejects(starting, /stopped before informer-1 listed/);
    assert.equal(set.synced, false);
    await timers.advance(10_000);
    assert.equal(informer.starts, 4, 'the first LIST and three retries, then nothing');
  });
});
