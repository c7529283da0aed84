/**
 * `npm run chaos -- --seed S --minutes M` (issue 18): the lab topology under client load and a
 * seeded schedule of faults and user's changes; prints a table per fault kind next to the
 * issue's targets and every invariant violation. The seed reproduces the schedule. Root is
 * needed (network namespaces); run it under the team's namespace lock.
 *
 * Options: --seed N (default: random, printed), --minutes M (default 10), --faults a,b,...
 * (fault kinds, default all), --plan (print the plan of the seed and exit, no lab).
 *
 * Soak (issue 18 item 4): --soak plans gently (a fault every two minutes or so, the ones that
 * restart a process only every second round) and samples every process of the lab each minute;
 * the soak table follows the chaos table. --sample-seconds S samples (with or without --soak) at
 * another interval, --warmup-minutes W leaves W minutes of each process's samples out of the
 * slopes (default 10, or a third of the run when shorter), --soak-json FILE writes the rows
 * and every sample as JSON.
 *
 * --shipped-flags starts the speakers and controllers with the V8 flags deploy/ ships
 * (lab/shipped-flags.ts: lite mode, a 1 MB young generation, optimize-for-size), as a soak of
 * the product's memory needs; default: Node's defaults.
 *
 * --prefix P (default chaos) names the lab's namespaces P-*: a second run beside a running one
 * (say a soak) needs its own prefix, since a lab first deletes every namespace of its prefix.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SHIPPED_NODE_FLAGS } from '../lab/shipped-flags.ts';
import { runChaos } from './chaos/run.ts';
import { buildPlan, describePlan, FAULT_KINDS, type FaultKind } from './chaos/schedule.ts';
import { defaultWarmupMs, formatSoak, soakRows } from './chaos/soak.ts';
import { formatReport } from './chaos/table.ts';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const { values: args } = parseArgs({
  options: {
    seed: { type: 'string' },
    minutes: { type: 'string', default: '10' },
    faults: { type: 'string' },
    plan: { type: 'boolean', default: false },
    soak: { type: 'boolean', default: false },
    'sample-seconds': { type: 'string' },
    'warmup-minutes': { type: 'string' },
    'soak-json': { type: 'string' },
    prefix: { type: 'string' },
    'shipped-flags': { type: 'boolean', default: false },
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
const sampleSeconds =
  args['sample-seconds'] !== undefined ? Number(args['sample-seconds']) : args.soak ? 60 : undefined;
if (sampleSeconds !== undefined && !(sampleSeconds >= 1 && sampleSeconds <= 3_600))
  fail(`--sample-seconds "${args['sample-seconds']}" is not between 1 and 3600`);
const warmupMs =
  args['warmup-minutes'] !== undefined ? Number(args['warmup-minutes']) * 60_000 : defaultWarmupMs(minutes);
if (!(warmupMs >= 0 && warmupMs < minutes * 60_000))
  fail(`--warmup-minutes "${args['warmup-minutes']}" is not from 0 to under --minutes`);
// Namespaces chaos-*: test/chaos/chaos.test.ts uses chaostest-*, so a soak can run beside the suite.
const LAB_PREFIX = 'chaos';
const prefix = args.prefix ?? LAB_PREFIX;
if (!/^[a-z0-9]{2,12}$/.test(prefix) || prefix === 'chaostest')
  fail(`--prefix "${prefix}" is not 2-12 lower-case letters or digits other than the suite's chaostest`);
if (args['soak-json'] !== undefined && sampleSeconds === undefined)
  fail('--soak-json needs --soak or --sample-seconds');
const log = (line: string): void => {
  process.stderr.write(`${new Date().toISOString().slice(11, 23)} ${line}\n`);
};

if (args.plan) {
  const plan = buildPlan({
    seed,
    durationMs: minutes * 60_000,
    nodes: ['node-1', 'node-2', 'node-3'],
    kinds,
    soak: args.soak,
  });
  process.stdout.write(`${describePlan(plan).join('\n')}\n`);
  process.exit(0);
}
if (process.getuid?.() !== 0) fail('chaos needs root (network namespaces)');
execFileSync('bash', [`${REPO}scripts/install-test-deps.sh`], { stdio: 'inherit' });
log(
  `chaos: seed ${seed}, ${minutes} min${args.soak ? ', soak' : ''}${args['shipped-flags'] ? ', V8 flags as shipped' : ''} (repeat with --seed ${seed})`,
);
const result = await runChaos({
  seed,
  minutes,
  prefix,
  kinds,
  soak: args.soak,
  ...(args['shipped-flags'] ? { nodeFlags: SHIPPED_NODE_FLAGS } : {}),
  ...(sampleSeconds === undefined ? {} : { sampleIntervalMs: sampleSeconds * 1000 }),
  log,
});
process.stdout.write(
  `${formatReport({ seed, minutes, costs: result.costs, violations: result.violations, requests: result.requests })}\n`,
);
process.stdout.write(
  `observation rounds: ${result.observations}, ${result.settled.rounds} settled (L2 IPs answered ${result.settled.answeredIps}, BGP IPs routed ${result.settled.routedIps}); skipped while the API server was away: ${result.skippedObservations}; in a membership-port block past its bound: ${result.blocked.rounds} (L2 IPs answered ${result.blocked.answeredIps})\n`,
);
for (const error of result.faultErrors) process.stdout.write(`fault error: ${error}\n`);
if (result.soak !== undefined && sampleSeconds !== undefined) {
  const rows = soakRows(result.soak, { warmupMs });
  process.stdout.write(`\n${formatSoak(rows, { warmupMs, intervalMs: sampleSeconds * 1000 })}\n`);
  if (args['soak-json'] !== undefined) {
    writeFileSync(
      args['soak-json'],
      `${JSON.stringify({ seed, minutes, warmupMs, intervalMs: sampleSeconds * 1000, rows, series: result.soak }, null, 1)}\n`,
    );
  }
}
process.exitCode = result.violations.length > 0 || result.faultErrors.length > 0 ? 1 : 0;
