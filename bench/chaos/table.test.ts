import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProbeRecord } from '../../lab/probe.ts';
import { alignColumns, type FaultWindow, faultCosts, formatReport, kindRows, TARGETS } from './table.ts';

/** A probe every 20 ms from `from` for `count` requests; `fails(t)` says which fail. */
function records(from: number, count: number, fails: (t: number) => boolean, body = 'node-1'): ProbeRecord[] {
  return Array.from({ length: count }, (_, seq) => {
    const start = from + seq * 20;
    return fails(start)
      ? { seq, start, end: start + 500, ok: false, error: 'timeout' }
      : { seq, start, end: start + 2, ok: true, status: 200, body };
  });
}

const window = (kind: FaultWindow['kind'], startMs: number, endMs: number): FaultWindow => ({
  kind,
  label: `${kind} test`,
  startMs,
  endMs,
});

describe('chaos table', () => {
  it('counts lost requests per fault window and L2 adds both families', () => {
    const v4 = records(0, 1000, (t) => t >= 1_000 && t < 1_300); // 15 lost in the first window
    const v6 = records(0, 1000, (t) => t >= 1_000 && t < 1_100); // 5
    const bgp = records(0, 1000, (t) => t >= 12_000 && t < 12_060); // 3, second window only
    const costs = faultCosts([window('cable-cut', 900, 5_000), window('speaker-restart', 10_000, 19_000)], {
      'l2-v4': v4,
      'l2-v6': v6,
      'bgp-v4': bgp,
    });
    assert.equal(costs[0]?.l2.lost, 20);
    assert.equal(costs[0]?.bgp.lost, 0);
    assert.equal(costs[0]?.bgp.outageMs, 0);
    // From the first failed request (1000) to the answer of the first good one after (1300 + 2).
    assert.equal(costs[0]?.l2.outageMs, 302);
    assert.equal(costs[1]?.l2.lost, 0);
    assert.equal(costs[1]?.bgp.lost, 3);
  });

  it('the outage of an ECMP path spans from the first failure to the good answer after the last', () => {
    // Every third request fails for 1 s (the flows hashed to a dead next hop).
    const bgp = records(0, 200, (t) => t >= 1_000 && t < 2_000 && (t / 20) % 3 === 0);
    const [cost] = faultCosts([window('cable-cut', 500, 3_000)], { 'l2-v4': [], 'l2-v6': [], 'bgp-v4': bgp });
    assert.equal(cost?.bgp.lost, 17);
    assert.equal(cost?.bgp.outageMs, 1_980 + 20 + 2 - 1_020);
  });

  it('a graceful speaker restart meets its BGP target with resets (ECMP rehashing), not with a timeout', () => {
    const reset =
      (error: string) =>
      (r: ProbeRecord): ProbeRecord =>
        r.start === 1_000 ? { ...r, ok: false, error } : r;
    const fine = records(0, 200, () => false);
    const met = (bgp: ProbeRecord[]) =>
      kindRows(
        faultCosts([window('speaker-restart', 500, 3_000)], { 'l2-v4': fine, 'l2-v6': fine, 'bgp-v4': bgp }),
      )[0]?.met;
    assert.equal(met(fine.map(reset('ECONNRESET'))), true);
    assert.equal(met(fine.map(reset('timeout'))), false);
    // On L2 it must lose nothing, reset or not.
    const [cost] = faultCosts([window('speaker-restart', 500, 3_000)], {
      'l2-v4': fine.map(reset('ECONNRESET')),
      'l2-v6': fine,
      'bgp-v4': fine,
    });
    assert.equal(cost?.l2.resets, 1);
    assert.equal(kindRows(cost ? [cost] : [])[0]?.met, false);
  });

  it('rows per kind with median/max and whether the target was met; a never-ending outage is Infinity', () => {
    const fine = records(0, 3000, () => false);
    const lossy = records(0, 3000, (t) => t >= 20_000 && t < 20_040);
    const stuck = records(0, 3000, (t) => t >= 40_000);
    const costs = faultCosts(
      [
        window('watch-cut', 0, 10_000),
        window('watch-cut', 15_000, 25_000),
        window('cpu-saturate', 30_000, 35_000),
        window('link-flap', 39_000, 60_000),
      ],
      {
        'l2-v4': fine,
        'l2-v6': fine,
        'bgp-v4': [...lossy.filter((r) => r.start < 30_000), ...stuck.filter((r) => r.start >= 30_000)],
      },
    );
    const rows = kindRows(costs);
    assert.deepEqual(
      rows.map((r) => [r.kind, r.count, r.bgpLost.max, r.met]),
      [
        ['link-flap', 1, 1000, true], // the target is on L2 only
        ['watch-cut', 2, 2, false],
        ['cpu-saturate', 1, 0, undefined],
      ],
    );
    assert.equal(rows[1]?.bgpLost.median, 1);
    assert.equal(rows[0]?.bgpOutageMs.max, Number.POSITIVE_INFINITY);
    const text = formatReport({
      seed: 42,
      minutes: 1,
      costs,
      violations: [
        { atMs: 0, rule: 'two-answerers', detail: 'x answered by a and b', fault: 'link-flap test' },
      ],
      requests: 9000,
    });
    assert.match(text, /seed 42, 1 min, 4 faults, 9000 requests/);
    assert.match(text, /^watch-cut +2 +0\/0 +0ms\/0ms +1\/2 .*0 lost, 0 IP changes +NO$/m);
    assert.match(text, /never/);
    assert.match(
      text,
      /invariant violations: 1 \(target 0\)\n {2}1970-01-01T00:00:00.000Z seed 42 \[two-answerers\] x answered by a and b \(fault in progress: link-flap test\)/,
    );
  });

  it('a membership-port block: 0 lost on either path, the one-answerer bound in the target text', () => {
    const fine = records(0, 2000, () => false);
    const lossy = records(0, 2000, (t) => t >= 21_000 && t < 21_020);
    const rows = kindRows(
      faultCosts([window('membership-block', 0, 15_000), window('membership-block', 20_000, 35_000)], {
        'l2-v4': lossy,
        'l2-v6': fine,
        'bgp-v4': fine,
      }),
    );
    assert.deepEqual(
      rows.map((r) => [r.kind, r.count, r.l2Lost.max, r.met]),
      [['membership-block', 2, 1, false]],
    );
    assert.match(TARGETS['membership-block'].text, /0 lost; one ARP\/NDP answerer per IP after 1 s/);
  });

  it('columns are padded to the widest cell', () => {
    assert.deepEqual(
      alignColumns([
        ['a', 'bb', 'c'],
        ['dddd', 'e', ''],
      ]),
      ['a     bb  c', 'dddd  e'],
    );
  });
});
