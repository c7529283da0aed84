import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeEcmpFailover, analyzeFailover, type Probe, parseProbes } from './failover.ts';

const ok = (start: number, end: number, body: string): Probe => ({ start, end, ok: true, body });
const failed = (start: number, end: number): Probe => ({ start, end, ok: false, error: 'timeout' });

describe('failover analysis', () => {
  it('times the cut to the first answer from another node and counts the failures before it', () => {
    const probes = [
      ok(980, 983, 'node-3'),
      ok(1000, 1004, 'node-3'), // started before the cut (at 1001): the owner still answered
      failed(1020, 1270),
      failed(1040, 1290),
      failed(1060, 1310),
      ok(1300, 1303, 'node-2'),
      failed(1080, 1330), // completed later but started before the good one
      ok(1320, 1322, 'node-2'),
    ];
    assert.deepEqual(analyzeFailover(probes, 1001, 'node-3'), {
      servedAgainMs: 302,
      servedBy: 'node-2',
      failedRequests: 4,
    });
  });

  it('ignores answers from the cut owner and is undefined until someone else answers', () => {
    assert.equal(analyzeFailover([ok(1100, 1101, 'node-3'), failed(1120, 1370)], 1000, 'node-3'), undefined);
    assert.equal(analyzeFailover([], 1000, 'node-3'), undefined);
  });

  it('ECMP: the outage of the flows hashed to the lost node ends where the failures do', () => {
    const probes = [
      failed(990, 1490), // started before the cut: not counted
      ok(1010, 1012, 'node-1'),
      failed(1030, 1530),
      ok(1050, 1052, 'node-2'),
      failed(1170, 1670), // the last new flow sent to the lost node
      ok(1190, 1192, 'node-1'),
      ok(1210, 1212, 'node-2'),
    ];
    assert.deepEqual(analyzeEcmpFailover(probes, 1000), { outageMs: 190, failedRequests: 2 });
    assert.equal(analyzeEcmpFailover(probes.slice(0, 5), 1000), undefined, 'not served again yet');
    assert.deepEqual(analyzeEcmpFailover([ok(1010, 1012, 'node-1')], 1000), {
      outageMs: 0,
      failedRequests: 0,
    });
  });

  it('parses prober lines and skips partial or foreign ones', () => {
    const text = [
      '{"start":1.5,"end":2.25,"ok":true,"body":"node-1"}',
      'some log line',
      '{"start":3,"end":253,"ok":false,"error":"timeout"}',
      '{"start":4,"en',
      '{"hello":1}',
    ].join('\n');
    assert.deepEqual(parseProbes(text), [
      { start: 1.5, end: 2.25, ok: true, body: 'node-1' },
      { start: 3, end: 253, ok: false, error: 'timeout' },
    ]);
  });
});
