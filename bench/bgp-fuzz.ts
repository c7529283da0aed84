/**
 * `npm run fuzz:bgp -- N [--seed S] [--sessions L]`: N random and mutated messages against real
 * sessions of the speaker over loopback, in every state, each answer checked against the RFC
 * verdict table (bench/bgp-fuzz/rules.ts). Prints the counts (process exits, hangs over 50 ms,
 * wrong verdicts) and the table; exits 1 when a count is not 0.
 */
import { parseArgs } from 'node:util';
import { formatReport } from './bgp-fuzz/report.ts';
import { runFuzz } from './bgp-fuzz/run.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { seed: { type: 'string', default: '1' }, sessions: { type: 'string', default: '8' } },
});
const messages = Number(positionals[0] ?? '100000');
const seed = Number(values.seed);
const lanes = Number(values.sessions);
if (
  !Number.isInteger(messages) ||
  messages < 1 ||
  !Number.isInteger(seed) ||
  !Number.isInteger(lanes) ||
  lanes < 1
) {
  console.error('usage: npm run fuzz:bgp -- N [--seed S] [--sessions L] (positive integers)');
  process.exit(2);
}
const report = await runFuzz({
  messages,
  seed,
  lanes,
  progress: (done) => process.stderr.write(`\r${done.toLocaleString('en-US')} messages`),
});
process.stderr.write('\n');
console.log(formatReport(report));
process.exitCode = report.exits + report.hangs + report.wrongVerdicts > 0 ? 1 : 0;
