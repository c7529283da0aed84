import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDurationMs } from './durations.ts';

describe('parseDurationMs (Go time.ParseDuration syntax)', () => {
  const valid: [string, number][] = [
    ['0', 0],
    ['90s', 90_000],
    ['1m30s', 90_000],
    ['1.5h', 5_400_000],
    ['300ms', 300],
    ['1500us', 1.5],
    ['2µs', 0.002],
    ['1h2m3s4ms', 3_723_004],
    ['.5s', 500],
  ];
  for (const [text, ms] of valid) {
    it(`"${text}" is ${ms} ms`, () => assert.equal(parseDurationMs(text), ms));
  }
  for (const text of ['', '90', 's', '1x', '-1s', '1s ', ' 1s', '1d', '1.2.3s', '1 m']) {
    it(`rejects "${text}"`, () => assert.equal(parseDurationMs(text), undefined));
  }
});
