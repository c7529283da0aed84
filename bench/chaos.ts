/**
 * `npm run chaos -- --seed S --minutes M` (issue 18): the lab topology under client load and a
 * seeded schedule of faults and user's changes; prints a table per fault kind next to the
 * issue's targets and every invariant violation. The seed reproduces the schedule. Root is
 * needed (network namespaces); run it under the team's namespace lock.
 *
 * Options: --seed N (default: random, printed), --minutes M (default 10), --faults a,b,...
 * (fault kinds, default all), --plan (print the plan of the seed and exit, no lab).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runChaos } from './chaos/run.ts';
import { buildPlan, describePlan, FAULT_KINDS, type FaultKind } from './chaos/schedule.ts';
import { formatReport } from './chaos/table.ts';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const { values: args } = parseArgs({
  options: {
    seed: { type: 'string' },
    minutes: { type: 'string', default: '10' },
    faults: { type: 'string' },
    plan: { type: 'boolean', default: false },
  },
});
const fail = (message: string): never => {
  process.stderr.write(`error: ${message}\n`);
  process.exit(2);
};
const seed = args.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(args.seed);
if (!Number.isInteger(seed) || seed < 0) fail(`--seed "${args.seed}" is not a non-negative integer`);
const minutes = Number(args.minutes);
if (!(minutes > 0 && minutes <= 24 * 60)) fail(`--minutes "${args.minutes}" is not between 0 and 1440`);
const kinds = args.faults?.split(',').map((k) => k.trim()) as FaultKind[] | undefined;
for (const kind of kinds ?? []) {
  if (!FAULT_KINDS.includes(kind))
    fail(`--faults: unknown kind "${kind}" (kinds: ${FAULT_KINDS.join(', ')})`);
}
const log = (line: string): void => {
  process.stderr.write(`${new Date().toISOString().slice(11, 23)} ${line}\n`);
};

if (args.plan) {
  const plan = buildPlan({
    seed,
    durationMs: minutes * 60_000,
    nodes: ['node-1', 'node-2', 'node-3'],
    kinds,
  });
  process.stdout.write(`${describePlan(plan).join('\n')}\n`);
  process.exit(0);
}
if (process.getuid?.() !== 0) fail('chaos needs root (network namespaces)');
execFileSync('bash', [`${REPO}scripts/install-test-deps.sh`], { stdio: 'inherit' });
log(`chaos: seed ${seed}, ${minutes} min (repeat with --seed ${seed})`);
const result = await runChaos({ seed, minutes, prefix: 'chaos', kinds, log });
process.stdout.write(
  `${formatReport({ seed, minutes, costs: result.costs, violations: result.violations, requests: result.requests })}\n`,
);
process.stdout.write(
  `observation rounds: ${result.observations}, ${result.settled.rounds} settled (L2 IPs answered ${result.settled.answeredIps}, BGP IPs routed ${result.settled.routedIps}); skipped while the API server was away: ${result.skippedObservations}\n`,
);
for (const error of result.faultErrors) process.stdout.write(`fault error: ${error}\n`);
process.exitCode = result.violations.length > 0 || result.faultErrors.length > 0 ? 1 : 0;
