import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatReport } from '../../bench/bgp-fuzz/report.ts';
import { RULES, type RuleId } from '../../bench/bgp-fuzz/rules.ts';
import { runFuzz } from '../../bench/bgp-fuzz/run.ts';

// A seeded subset of `npm run fuzz:bgp`: real sessions of the speaker over loopback, driven
// through every state with valid, faulty and blindly mutated messages, each answer checked
// against the RFC verdict table (bench/bgp-fuzz/rules.ts, ADR 0003).

describe('BGP session fuzzer (seeded subset)', { timeout: 600_000 }, () => {
  it('20,000 messages: no process exit, no hang over 50 ms, every verdict the RFC table says, every row decided', async () => {
    const report = await runFuzz({ messages: 20_000, seed: 1, lanes: 8 });
    const text = formatReport(report);
    assert.equal(report.messages, 20_000, text);
    assert.equal(report.exits, 0, text);
    assert.equal(report.hangs, 0, text);
    assert.equal(report.wrongVerdicts, 0, text);
    assert.deepEqual(report.internalErrors, [], text);
    for (const state of ['OpenSent', 'OpenConfirm', 'Established'] as const) {
      assert.ok(report.byState[state] > 1000, `${state}: ${report.byState[state]} messages\n${text}`);
    }
    // Every row of the table decided some message: the generator reaches each case it claims to.
    const idle = (Object.keys(RULES) as RuleId[]).filter((id) => report.rules.get(id)!.messages === 0);
    assert.deepEqual(idle, [], text);
  });

  it('is reproducible: the same seed sends and observes the same, another seed does not', async () => {
    const run = (seed: number) => runFuzz({ messages: 1_000, seed, lanes: 4 });
    const [a, b, c] = [await run(5), await run(5), await run(6)];
    for (const r of [a, b, c]) assert.equal(r.wrongVerdicts + r.hangs + r.exits, 0, formatReport(r));
    assert.equal(a.digest, b.digest);
    assert.notEqual(a.digest, c.digest);
  });
});
