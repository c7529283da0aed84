import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FloodGuard, OTHER_SOURCES, type Sampling, sampleOneIn } from './flood-guard.ts';

/** One in 64, whatever the rate. */
const FIXED_64: Sampling = { minOneIn: 64, maxOneIn: 64, targetPerSecond: 1 };

test('a source over the threshold is sampled for the hold time after its last flooding second', () => {
  const guard = new FloodGuard(500, 10_000);
  assert.deepEqual(guard.flush(1000), { sampled: [], changed: false, rates: new Map(), oneIn: new Map() });
  for (let i = 0; i < 600; i++) guard.dropped('192.0.2.12');
  for (let i = 0; i < 400; i++) guard.dropped('192.0.2.13');
  for (let i = 0; i < 9000; i++) guard.dropped(OTHER_SOURCES);
  const first = guard.flush(2000);
  assert.deepEqual(first.sampled, [OTHER_SOURCES, '192.0.2.12']);
  assert.equal(first.changed, true);
  assert.deepEqual(
    [...first.rates],
    [
      ['192.0.2.12', 600],
      [OTHER_SOURCES, 9000],
    ],
  );
  // Quiet seconds: still sampled until 10 s after the last flooding one, then released.
  assert.deepEqual(guard.flush(3000), {
    sampled: [OTHER_SOURCES, '192.0.2.12'],
    changed: false,
    rates: new Map(),
    oneIn: new Map([
      [OTHER_SOURCES, 1],
      ['192.0.2.12', 1],
    ]),
  });
  for (let i = 0; i < 1000; i++) guard.dropped('192.0.2.12');
  guard.flush(4000);
  assert.deepEqual(guard.flush(12_000).sampled, ['192.0.2.12']);
  const released = guard.flush(14_000);
  assert.deepEqual([released.sampled, released.changed], [[], true]);
});

test('the rate is per second of the time since the last flush', () => {
  const guard = new FloodGuard(500, 10_000);
  guard.flush(0);
  for (let i = 0; i < 900; i++) guard.dropped('a');
  assert.deepEqual(guard.flush(2000).sampled, [], '900 in 2 s is 450 a second');
  for (let i = 0; i < 900; i++) guard.dropped('a');
  assert.deepEqual(guard.flush(3000).sampled, ['a']);
});

test("a sampled source's drops stand for the kernel's sample: a flood that goes on stays sampled until it stops", () => {
  const guard = new FloodGuard(500, 10_000, FIXED_64);
  guard.flush(0);
  // 20,000 a second from unlisted sources: over the threshold before the kernel samples...
  for (let i = 0; i < 20_000; i++) guard.dropped(OTHER_SOURCES);
  assert.deepEqual(guard.flush(1000).sampled, [OTHER_SOURCES]);
  // ...and then about 312 of them a second reach the thread: 20,000 a second still, held.
  for (let second = 2; second <= 30; second++) {
    for (let i = 0; i < 312; i++) guard.dropped(OTHER_SOURCES);
    const { sampled, rates } = guard.flush(second * 1000);
    assert.deepEqual(sampled, [OTHER_SOURCES], `second ${second}`);
    assert.equal(rates.get(OTHER_SOURCES), 312 * 64);
  }
  // The flood stops: released after the hold time.
  for (let second = 31; second <= 40; second++) guard.flush(second * 1000);
  assert.deepEqual(guard.flush(41_000).sampled, []);
  // Without the scale (no kernel filter, nothing sampled on the wire), 312 a second is no flood.
  const plain = new FloodGuard(500, 10_000);
  plain.flush(0);
  for (let i = 0; i < 312; i++) plain.dropped(OTHER_SOURCES);
  assert.deepEqual(plain.flush(1000).sampled, []);
});

test('a source passing the threshold asks for a flush at once; a short interval makes no flood of a few drops', () => {
  const guard = new FloodGuard(500, 10_000, FIXED_64);
  guard.flush(0);
  for (let i = 0; i < 40; i++) assert.equal(guard.dropped('192.0.2.12'), false);
  const asks = Array.from({ length: 600 }, () => guard.dropped(OTHER_SOURCES));
  assert.deepEqual(
    asks.flatMap((ask, i) => (ask ? [i + 1] : [])),
    [501],
    'once, at the 501st drop',
  );
  // 20 ms in: 600 drops of the others (30,000 a second) flood; 40 of 192.0.2.12 (2,000 a
  // second over 20 ms, but 40 drops) do not.
  const early = guard.flush(20);
  assert.deepEqual(early.sampled, [OTHER_SOURCES]);
  assert.equal(early.rates.get(OTHER_SOURCES), 30_000);
  // Sampled: no more asks, whatever comes.
  assert.ok(Array.from({ length: 1000 }, () => guard.dropped(OTHER_SOURCES)).every((ask) => !ask));
});

const ADAPTIVE: Sampling = { minOneIn: 64, maxOneIn: 4096, targetPerSecond: 32 };

test('the share follows the rate: a power of two leaving the target to the thread, within the bounds', () => {
  assert.equal(sampleOneIn(600, ADAPTIVE), 64, 'a small flood: the smallest share');
  assert.equal(sampleOneIn(25_000, ADAPTIVE), 512, '25,000/s: 48 a second reach the thread');
  assert.equal(sampleOneIn(100_000, ADAPTIVE), 2048);
  assert.equal(sampleOneIn(10_000_000, ADAPTIVE), 4096, 'never below one in maxOneIn');
  for (const perSecond of [501, 2_000, 30_000, 99_999, 1e6]) {
    const oneIn = sampleOneIn(perSecond, ADAPTIVE);
    assert.equal(Math.log2(oneIn) % 1, 0, `${perSecond}/s: ${oneIn} is a power of two`);
    const reaching = perSecond / oneIn;
    if (oneIn > 64 && oneIn < 4096) assert.ok(reaching >= 32 && reaching < 64, `${perSecond}/s: ${reaching}`);
  }
  // Kept while the ideal share stays within a factor of two of the current one.
  assert.equal(sampleOneIn(30_000, ADAPTIVE, 512), 512);
  assert.equal(sampleOneIn(17_000, ADAPTIVE, 512), 512);
  assert.equal(sampleOneIn(40_000, ADAPTIVE, 512), 1024);
  assert.equal(sampleOneIn(8_000, ADAPTIVE, 512), 128);
});

test("a flood's share follows its rate from second to second; the drops of the sample stand for that share", () => {
  const guard = new FloodGuard(500, 10_000, ADAPTIVE);
  guard.flush(0);
  for (let i = 0; i < 25_000; i++) guard.dropped('192.0.2.12');
  const first = guard.flush(1000);
  assert.deepEqual([...first.oneIn], [['192.0.2.12', 512]]);
  assert.equal(first.changed, true);
  // 48 a second reach the thread: 24,576 a second, the same share, nothing changed.
  for (let i = 0; i < 48; i++) guard.dropped('192.0.2.12');
  const same = guard.flush(2000);
  assert.deepEqual(
    [same.changed, same.rates.get('192.0.2.12'), same.oneIn.get('192.0.2.12')],
    [false, 24_576, 512],
  );
  // The flood grows to ~100,000 a second: 195 a second of the sample, a smaller share.
  for (let i = 0; i < 195; i++) guard.dropped('192.0.2.12');
  const grown = guard.flush(3000);
  assert.deepEqual([grown.changed, grown.oneIn.get('192.0.2.12')], [true, 2048]);
  // It stops: released with its share after the hold time; flooding again starts from the rate.
  for (let second = 4; second <= 12; second++) assert.equal(guard.flush(second * 1000).changed, false);
  const released = guard.flush(13_000);
  assert.deepEqual([released.sampled, released.oneIn.size, released.changed], [[], 0, true]);
  for (let i = 0; i < 700; i++) guard.dropped('192.0.2.12');
  assert.deepEqual([...guard.flush(14_000).oneIn], [['192.0.2.12', 64]]);
});
