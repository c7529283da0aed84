import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { ApiError } from '../k8s/client.ts';
import { type EventAggregation, EventRecorder, type EventTarget, MAX_REMEMBERED } from './event-recorder.ts';
import { ManualTimers, settle } from './manual-timers.ts';

/**
 * The recorder's side of the API, recorded: every create and patch with its path and body.
 * Requests can be held open (`hold`) to see the concurrency bound, and answered with an error.
 * The recorder against the embedded API server runs in test/controller/events.test.ts and the
 * speaker's status tests.
 */
class RecordingSink {
  readonly requests: { verb: 'create' | 'patch'; path: string; body: Record<string, unknown> }[] = [];
  hold = false;
  #held: (() => void)[] = [];
  /** path -> the error its next request gets */
  readonly failures = new Map<string, Error>();

  async create<T>(path: string, body: unknown): Promise<T> {
    return this.#answer('create', path, body) as Promise<T>;
  }

  async patch<T>(path: string, body: unknown): Promise<T> {
    return this.#answer('patch', path, body) as Promise<T>;
  }

  async #answer(verb: 'create' | 'patch', path: string, body: unknown): Promise<unknown> {
    this.requests.push({ verb, path, body: body as Record<string, unknown> });
    if (this.hold) await new Promise<void>((resolve) => this.#held.push(resolve));
    const failure = this.failures.get(path);
    if (failure) {
      this.failures.delete(path);
      throw failure;
    }
    return body;
  }

  get inFlight(): number {
    return this.#held.length;
  }

  async releaseAll(): Promise<void> {
    this.hold = false;
    for (const release of this.#held.splice(0)) release();
    await settle();
  }
}

const service = (name: string, uid = `uid-${name}`): EventTarget => ({
  apiVersion: 'v1',
  kind: 'Service',
  namespace: 'default',
  name,
  uid,
});

function recorderWith(
  aggregation: EventAggregation,
  limits: { maxInFlight?: number; maxBacklog?: number; maxRemembered?: number } = {},
) {
  const sink = new RecordingSink();
  const timers = new ManualTimers();
  const logs: { level: number; msg: string }[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => logs.push(JSON.parse(line)) });
  let nowMs = Date.UTC(2025, 0, 2, 3, 4, 5, 678);
  const recorder = new EventRecorder({
    client: sink,
    log,
    component: 'metalbeacon-test',
    now: () => nowMs,
    aggregation,
    timers,
    ...limits,
  });
  return { sink, timers, logs, recorder, tick: (ms: number) => (nowMs += ms) };
}

describe('EventRecorder', () => {
  it('posts a core/v1 Event naming the object, with its time, component and a unique name', async () => {
    const { sink, recorder } = recorderWith('count');
    recorder.post(service('web'), { type: 'Warning', reason: 'AllocationFailed', message: 'no IP left' });
    recorder.post(service('web'), { type: 'Normal', reason: 'IPAllocated', message: '198.51.100.1' });
    await recorder.drained();
    assert.equal(sink.requests.length, 2);
    const [first, second] = sink.requests;
    assert.equal(first!.verb, 'create');
    assert.equal(first!.path, '/api/v1/namespaces/default/events');
    assert.deepEqual(first!.body, {
      metadata: { name: (first!.body.metadata as { name: string }).name, namespace: 'default' },
      involvedObject: {
        apiVersion: 'v1',
        kind: 'Service',
        namespace: 'default',
        name: 'web',
        uid: 'uid-web',
      },
      type: 'Warning',
      reason: 'AllocationFailed',
      message: 'no IP left',
      source: { component: 'metalbeacon-test' },
      reportingComponent: 'metalbeacon-test',
      firstTimestamp: '2025-01-02T03:04:05.678Z',
      lastTimestamp: '2025-01-02T03:04:05.678Z',
      count: 1,
    });
    const names = sink.requests.map((r) => (r.body.metadata as { name: string }).name);
    assert.match(names[0]!, /^web\.[0-9a-f]+0000$/);
    assert.notEqual(names[0], names[1], 'two events in the same millisecond get two names');
    assert.equal(second!.body.reason, 'IPAllocated');
  });

  describe("aggregation 'count' (client-go's)", () => {
    it('counts a repeat on the Event already posted; another message or object is a new Event', async () => {
      const { sink, recorder, tick } = recorderWith('count');
      const failed = { type: 'Warning', reason: 'AllocationFailed', message: 'no IP left' } as const;
      recorder.post(service('web'), failed);
      await recorder.drained();
      tick(1000);
      recorder.post(service('web'), failed);
      await recorder.drained();
      tick(1000);
      recorder.post(service('web'), failed);
      recorder.post(service('web', 'uid-recreated'), failed);
      recorder.post(service('web'), { ...failed, message: 'pool p is full' });
      await recorder.drained();
      const name = (sink.requests[0]!.body.metadata as { name: string }).name;
      assert.deepEqual(
        sink.requests.map((r) => [r.verb, r.verb === 'patch' ? r.path : r.body.message, r.body.count]),
        [
          ['create', 'no IP left', 1],
          ['patch', `/api/v1/namespaces/default/events/${name}`, 2],
          ['patch', `/api/v1/namespaces/default/events/${name}`, 3],
          ['create', 'no IP left', 1],
          ['create', 'pool p is full', 1],
        ],
      );
      assert.equal(sink.requests[2]!.body.lastTimestamp, '2025-01-02T03:04:07.678Z');
    });

    it('posts anew when the counted Event is gone (404), and goes on after other failures', async () => {
      const { sink, recorder, logs } = recorderWith('count');
      const event = { type: 'Normal', reason: 'IPAllocated', message: '198.51.100.1' } as const;
      recorder.post(service('web'), event);
      await recorder.drained();
      const path = `/api/v1/namespaces/default/events/${(sink.requests[0]!.body.metadata as { name: string }).name}`;
      sink.failures.set(path, new ApiError('PATCH', path, 404, '{"message":"events not found"}'));
      recorder.post(service('web'), event);
      await recorder.drained();
      assert.deepEqual(
        sink.requests.map((r) => r.verb),
        ['create', 'patch', 'create'],
      );
      sink.failures.set('/api/v1/namespaces/default/events', new ApiError('POST', 'x', 500, 'etcd down'));
      recorder.post(service('db'), event);
      await recorder.drained();
      assert.ok(logs.some((l) => l.msg === 'could not post event' && l.level === 40));
      recorder.post(service('db2'), event);
      await recorder.drained();
      assert.equal(sink.requests.at(-1)!.verb, 'create', 'a failure does not stop the recorder');
    });
  });

  describe("aggregation 'changes'", () => {
    it('posts per object, reason and topic only a changed message; forget() re-arms', async () => {
      const { sink, recorder } = recorderWith('changes');
      const failed = (message: string) => ({ type: 'Warning', reason: 'announceFailed', message }) as const;
      for (let i = 0; i < 100; i++) recorder.post(service('web'), failed('peer down'), 'peer-a');
      recorder.post(service('web'), failed('peer down'), 'peer-b');
      recorder.post(service('db'), failed('peer down'), 'peer-a');
      recorder.post(service('web'), failed('peer refused'), 'peer-a');
      recorder.post(service('web'), failed('peer refused'), 'peer-a');
      await recorder.drained();
      assert.equal(sink.requests.length, 4);
      recorder.forget(service('web'), 'announceFailed', 'peer-a');
      recorder.post(service('web'), failed('peer refused'), 'peer-a');
      recorder.post(service('web'), failed('peer down'), 'peer-b');
      await recorder.drained();
      assert.deepEqual(
        sink.requests.map((r) => [(r.body.involvedObject as { name: string }).name, r.body.message]),
        [
          ['web', 'peer down'],
          ['web', 'peer down'],
          ['db', 'peer down'],
          ['web', 'peer refused'],
          ['web', 'peer refused'],
        ],
      );
      assert.ok(
        sink.requests.every((r) => r.verb === 'create' && r.body.count === 1),
        'never counts',
      );
    });
  });

  describe('memory (issue 18: a soak creates and deletes thousands of Services)', () => {
    const events = [
      { type: 'Normal', reason: 'IPAllocated', message: 'Assigned IP ["198.51.100.7"]' },
      { type: 'Normal', reason: 'IPAllocated', message: 'Assigned IP ["198.51.100.200"]' },
      { type: 'Warning', reason: 'AllocationFailed', message: 'pool b is full' },
    ] as const;

    for (const aggregation of ['count', 'changes'] as const) {
      it(`${aggregation}: forgetObject() leaves nothing of 1,000 created and deleted Services`, async () => {
        const { sink, recorder } = recorderWith(aggregation);
        for (let i = 0; i < 1000; i++) {
          for (const event of events) recorder.post(service(`churn-${i}`), event, 'topic');
          await recorder.drained();
          recorder.forgetObject({ kind: 'Service', namespace: 'default', name: `churn-${i}` });
        }
        assert.equal(sink.requests.length, 3000);
        assert.equal(recorder.remembered, 0);
        // What a live object had is kept: a repeat is still folded.
        recorder.post(service('web'), events[0]);
        await recorder.drained();
        recorder.forgetObject({ kind: 'Service', namespace: 'default', name: 'churn-0' });
        recorder.post(service('web'), events[0]);
        await recorder.drained();
        assert.equal(recorder.remembered, 1);
        assert.equal(sink.requests.length, aggregation === 'count' ? 3002 : 3001);
      });
    }

    it('remembers at most maxRemembered repeats, forgetting the object touched longest ago', async () => {
      const { sink, recorder } = recorderWith('count', { maxRemembered: 10 });
      recorder.post(service('kept'), events[0]);
      await recorder.drained();
      for (let i = 0; i < 50; i++) {
        recorder.post(service(`never-deleted-${i}`), events[i % 3]!);
        // `kept` is posted to again each round, so it is never the oldest.
        recorder.post(service('kept'), events[0]);
        await recorder.drained();
        assert.ok(recorder.remembered <= 10, `${recorder.remembered} remembered`);
      }
      assert.equal(
        sink.requests.filter(
          (r) => r.verb === 'create' && (r.body.involvedObject as { name: string }).name === 'kept',
        ).length,
        1,
        'the repeats of the object in use are still counted',
      );
      assert.equal(MAX_REMEMBERED, 4096);
    });
  });

  it('sends at most maxInFlight at once and drops beyond maxBacklog, saying so', async () => {
    const { sink, recorder, logs } = recorderWith('count', { maxInFlight: 3, maxBacklog: 5 });
    sink.hold = true;
    for (let i = 0; i < 12; i++)
      recorder.post(service(`s${i}`), { type: 'Normal', reason: 'R', message: `m${i}` });
    await settle();
    assert.equal(sink.inFlight, 3);
    assert.equal(recorder.pending, 8, '3 in flight and 5 waiting; 4 dropped');
    assert.equal(logs.filter((l) => l.msg === 'event backlog full; dropping').length, 1, 'said once');
    await sink.releaseAll();
    await recorder.drained();
    assert.equal(sink.requests.length, 8);
    assert.equal(recorder.pending, 0);
  });

  it('drained() gives up after its time limit; discard() drops what waits', async () => {
    const { sink, recorder, timers } = recorderWith('count', { maxInFlight: 1 });
    sink.hold = true;
    for (let i = 0; i < 3; i++)
      recorder.post(service(`s${i}`), { type: 'Normal', reason: 'R', message: 'm' });
    let drained = false;
    void recorder.drained(500).then(() => (drained = true));
    await timers.advance(499);
    assert.equal(drained, false);
    await timers.advance(1);
    assert.equal(drained, true, 'the time limit ended the wait');
    recorder.discard();
    assert.equal(recorder.pending, 1, 'the one in flight finishes');
    await sink.releaseAll();
    await recorder.drained(500);
    assert.equal(recorder.pending, 0);
    assert.equal(sink.requests.length, 1);
    assert.equal(timers.pending, 0, 'no timer left behind');
  });
});
