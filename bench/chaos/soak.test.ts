import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultWarmupMs, formatSoak, type ProcessSample, SoakBook, slopePerHour, soakRows } from './soak.ts';

const T0 = 1_800_000_000_000;
const MIN = 60_000;
const MB = 1024 * 1024;

/** A sample a minute for `minutes`, values from `at(minute)`. */
function samples(
  role: string,
  pid: number,
  fromMinute: number,
  minutes: number,
  at: (m: number) => Partial<ProcessSample>,
): ProcessSample[] {
  return Array.from({ length: minutes }, (_, i) => {
    const m = fromMinute + i;
    return { role, pid, atMs: T0 + m * MIN, rssBytes: 50 * MB, fds: 20, sockets: 8, ...at(m) };
  });
}

describe('soak figures', () => {
  it('least squares: a line gives its slope per hour, noise around a flat line about 0', () => {
    const line = Array.from({ length: 10 }, (_, i) => ({ atMs: T0 + i * MIN, value: 100 + 0.5 * i }));
    assert.ok(Math.abs((slopePerHour(line) ?? 0) - 30) < 1e-9);
    const noisy = Array.from({ length: 60 }, (_, i) => ({
      atMs: T0 + i * MIN,
      value: 100 + (i % 2 ? 1 : -1),
    }));
    // Alternating ±1 each minute: 0.1/h, nothing like the 2/h its swings would suggest.
    assert.ok(Math.abs(slopePerHour(noisy) ?? 99) < 0.15);
    assert.equal(slopePerHour([{ atMs: T0, value: 1 }]), undefined);
    assert.equal(
      slopePerHour([
        { atMs: T0, value: 1 },
        { atMs: T0, value: 2 },
      ]),
      undefined,
    );
  });

  it('a series per role and PID: a restarted process starts its own, and samples go forward in time', () => {
    const book = new SoakBook();
    for (const s of samples('speaker node-1', 100, 0, 3, () => ({}))) book.add(s);
    for (const s of samples('speaker node-1', 200, 3, 2, () => ({}))) book.add(s);
    book.add({ role: 'runner', pid: 7, atMs: T0, rssBytes: 1, fds: 1, sockets: 0 }, 'grows by design');
    assert.deepEqual(
      book.series().map((s) => [s.role, s.pid, s.samples.length, s.note]),
      [
        ['speaker node-1', 100, 3, undefined],
        ['speaker node-1', 200, 2, undefined],
        ['runner', 7, 1, 'grows by design'],
      ],
    );
    assert.throws(
      () => book.add({ role: 'runner', pid: 7, atMs: T0, rssBytes: 1, fds: 1, sockets: 0 }),
      /sample of runner pid 7 at .* is not after/,
    );
  });

  it('slopes after the warm-up: start-up growth is left out, a leak after it is not', () => {
    const warmupMs = 10 * MIN;
    const book = new SoakBook();
    // Steady after a start-up that grows 20 MB in the first 10 minutes.
    for (const s of samples('controller', 1, 0, 60, (m) => ({ rssBytes: (m < 10 ? 30 + 2 * m : 50) * MB })))
      book.add(s);
    // A leak: 0.1 MB and one socket every minute (6 MB/h, 60 sockets/h).
    for (const s of samples('speaker node-2', 2, 0, 60, (m) => ({
      rssBytes: (50 + 0.1 * m) * MB,
      sockets: 8 + m,
      fds: 20 + m,
      heapUsedBytes: (10 + 0.05 * m) * MB,
      heapTotalBytes: (20 + 0.1 * m) * MB,
      externalBytes: (2 + 0.01 * m) * MB,
      loopDelayP99Ms: m === 30 ? 80 : 11,
    })))
      book.add(s);
    // One transient socket in one sample: no growth.
    for (const s of samples('bird', 3, 0, 60, (m) => ({ sockets: m === 40 ? 9 : 8 }))) book.add(s);
    const rows = soakRows(book.series(), { warmupMs });
    const [controller, speaker, bird] = rows;
    assert.equal(controller?.fitted, 50);
    assert.ok(Math.abs(controller?.rssMbPerH ?? 99) < 1e-9);
    assert.equal(controller?.met, true);
    assert.ok(Math.abs((speaker?.rssMbPerH ?? 0) - 6) < 1e-6);
    assert.ok(Math.abs((speaker?.socketsPerH ?? 0) - 60) < 1e-6);
    assert.ok(Math.abs((speaker?.heapMbPerH ?? 0) - 3) < 1e-6);
    assert.ok(Math.abs((speaker?.heapTotalMbPerH ?? 0) - 6) < 1e-6);
    assert.ok(Math.abs((speaker?.externalMbPerH ?? 0) - 0.6) < 1e-6);
    assert.deepEqual(speaker?.loopDelayP99Ms, { median: 11, max: 80 });
    assert.equal(speaker?.met, false);
    assert.equal(controller?.heapMbPerH, undefined, 'no heap readings: no heap slope');
    assert.equal(controller?.heapTotalMbPerH, undefined);
    assert.equal(controller?.externalMbPerH, undefined);
    assert.equal(bird?.met, true);
    assert.equal(bird?.loopDelayP99Ms, undefined);
    // Without the warm-up the controller's start-up would read as growth.
    const cold = soakRows(book.series(), { warmupMs: 0 })[0];
    assert.ok((cold?.rssMbPerH ?? 0) > 2);
    // A slow RSS leak just over the target fails alone.
    const slow = new SoakBook();
    for (const s of samples('api relay node-1', 4, 0, 60, (m) => ({
      rssBytes: 50 * MB + (m * 2.5 * MB) / 60,
    })))
      slow.add(s);
    assert.equal(soakRows(slow.series(), { warmupMs })[0]?.met, false);
  });

  it('the target applies to the private resident set where it is known, not to pages of the executable', () => {
    const warmupMs = 10 * MIN;
    const book = new SoakBook();
    // The executable's pages touched by new code paths: 6 MB/h of RSS, the private part flat.
    for (const s of samples('speaker node-1', 1, 0, 60, (m) => ({
      rssBytes: (80 + 0.1 * m) * MB,
      privateRssBytes: 30 * MB,
    })))
      book.add(s);
    // A private leak of 3 MB/h under a flat file part.
    for (const s of samples('controller', 2, 0, 60, (m) => ({
      rssBytes: (80 + 0.05 * m) * MB,
      privateRssBytes: (30 + 0.05 * m) * MB,
    })))
      book.add(s);
    const [speaker, controller] = soakRows(book.series(), { warmupMs });
    assert.ok(Math.abs((speaker?.rssMbPerH ?? 0) - 6) < 1e-6);
    assert.ok(Math.abs(speaker?.privateMbPerH ?? 99) < 1e-9);
    assert.equal(speaker?.met, true);
    assert.ok(Math.abs((controller?.privateMbPerH ?? 0) - 3) < 1e-6);
    assert.equal(controller?.met, false);
  });

  it('too few samples after the warm-up, or a process the targets do not apply to: no verdict', () => {
    const book = new SoakBook();
    for (const s of samples('speaker node-3', 5, 50, 12, () => ({}))) book.add(s);
    book.add({ role: 'runner', pid: 6, atMs: T0, rssBytes: MB, fds: 1, sockets: 0 }, 'holds the records');
    for (let m = 1; m < 60; m++)
      book.add({ role: 'runner', pid: 6, atMs: T0 + m * MIN, rssBytes: MB * (1 + m), fds: 1, sockets: 0 });
    const [short, runner] = soakRows(book.series(), { warmupMs: 10 * MIN });
    assert.equal(short?.fitted, 2);
    assert.equal(short?.rssMbPerH, undefined);
    assert.equal(short?.met, undefined);
    assert.ok((runner?.rssMbPerH ?? 0) > 50);
    assert.equal(runner?.met, undefined);
    const text = formatSoak(soakRows(book.series(), { warmupMs: 10 * MIN }), {
      warmupMs: 10 * MIN,
      intervalMs: MIN,
    });
    assert.match(text, /a sample every 60 s; .* from 10\.0 min after its first/);
    assert.match(text, /^process +pid +samples +fitted +RSS MB +RSS MB\/h +private MB\/h/m);
    assert.match(
      text,
      /^process +pid +samples +fitted +RSS MB +RSS MB\/h +private MB\/h +heap MB\/h +heap total MB\/h +external MB\/h +fds/m,
    );
    assert.match(text, /^speaker node-3 +5 +12 +2 \(1 min\) +50\.0 +- +- +- +- +- +20 +- +8 +- +- +-$/m);
    assert.match(text, /^runner \(pid 6\): holds the records$/m);
  });

  it('the warm-up: 10 minutes, or a third of a shorter run', () => {
    assert.equal(defaultWarmupMs(60), 10 * MIN);
    assert.equal(defaultWarmupMs(30), 10 * MIN);
    assert.equal(defaultWarmupMs(9), 3 * MIN);
  });
});
