import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderStatusText } from './render.ts';
import { buildStatusReport } from './report.ts';
import { sampleCluster } from './test-helpers.ts';
import { CLEAR_SCREEN, currentTrouble, watchFrame, watchJsonLine } from './watch-frame.ts';

const NOW = Date.parse('2026-12-07T04:40:05.123Z');
const report = buildStatusReport(sampleCluster());

describe('status --watch frames', () => {
  it('on a terminal: clears the screen, then header with the time, then the status tables', () => {
    const frame = watchFrame(report, { nowMs: NOW, terminal: true, width: 120, trouble: [] });
    assert.ok(frame.startsWith(CLEAR_SCREEN));
    const [header, blank, ...rest] = frame.slice(CLEAR_SCREEN.length).split('\n');
    assert.equal(header, 'metalbeacon status --watch   2026-12-07T04:40:05Z   Ctrl-C to stop');
    assert.equal(blank, '');
    assert.equal(rest.join('\n'), renderStatusText(report, { nowMs: NOW, width: 120 }));
  });

  it('to a pipe: no control characters, one frame after another, each marked with its time', () => {
    const frame = watchFrame(report, {
      nowMs: NOW,
      terminal: false,
      width: Number.POSITIVE_INFINITY,
      trouble: [],
    });
    assert.ok(frame.startsWith('--- 2026-12-07T04:40:05Z\n\n'));
    assert.ok(!frame.includes('\u001b'), 'no escape sequence');
  });

  it('says which caches are not current while their lists or watches fail', () => {
    const frame = watchFrame(report, {
      nowMs: NOW,
      terminal: false,
      width: Number.POSITIVE_INFINITY,
      trouble: ['services: connect ECONNREFUSED 127.0.0.1:6443', 'bgpsessionstates: HTTP 403'],
    });
    assert.deepEqual(frame.split('\n').slice(0, 3), [
      '--- 2026-12-07T04:40:05Z',
      '! not current: services: connect ECONNREFUSED 127.0.0.1:6443; retrying',
      '! not current: bgpsessionstates: HTTP 403; retrying',
    ]);
  });

  it('-o json: one line per frame that parses back to the report', () => {
    const line = watchJsonLine(report);
    assert.equal(line.indexOf('\n'), line.length - 1);
    assert.deepEqual(JSON.parse(line), JSON.parse(JSON.stringify(report)));
  });
});

describe('status --watch trouble', () => {
  it('shows a failure while it repeats and forgets it once it stops', () => {
    const failures = new Map([
      ['services', { message: 'connect ECONNREFUSED', atMs: 10_000 }],
      ['ipaddresspools', { message: 'HTTP 500', atMs: 6_000 }],
    ]);
    assert.deepEqual(currentTrouble(failures, 10_500, 3_000), ['services: connect ECONNREFUSED']);
    assert.deepEqual(currentTrouble(failures, 8_000, 3_000), [
      'ipaddresspools: HTTP 500',
      'services: connect ECONNREFUSED',
    ]);
    assert.deepEqual(currentTrouble(failures, 13_001, 3_000), []);
  });
});
