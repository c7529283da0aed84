/** The fuzzer's report as text: the three counts first, then the verdict table it checked. */

import { RULES } from './rules.ts';
import type { FuzzReport } from './run.ts';

export function formatReport(r: FuzzReport): string {
  const lines: string[] = [];
  const n = (v: number) => v.toLocaleString('en-US');
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  lines.push(
    `BGP session fuzzer: ${n(r.messages)} messages, seed ${r.seed}, ${r.lanes} sessions, ${r.durationSec.toFixed(1)} s (${n(Math.round(r.messages / r.durationSec))} messages/s)`,
    `  digest ${r.digest} (equal for equal N, seed and sessions)`,
    `  by state: OpenSent ${n(r.byState.OpenSent)}, OpenConfirm ${n(r.byState.OpenConfirm)}, Established ${n(r.byState.Established)}; ${n(r.reconnects)} connections`,
    '',
    `  process exits:     ${n(r.exits)}`,
    `  hangs over 50 ms:  ${n(r.hangs)}`,
    `  wrong verdicts:    ${n(r.wrongVerdicts)}`,
    '',
    `  longest unit of the speaker's work (a socket or FSM event): ${ms(r.maxSpeakerCpuMs)} CPU; ${n(r.slowSpeakerUnits)} over 50 ms as measured`,
    `  answer time, CPU of the process (other lanes' work included): p99 ${ms(r.answerCpuMs.p99)}, max ${ms(r.answerCpuMs.max)}`,
    `  answer time, wall (machine load included): p99 ${ms(r.answerWallMs.p99)}, max ${ms(r.answerWallMs.max)}, ${n(r.answerWallMs.over50)} over 50 ms`,
    `  longest event-loop turn (everything in the process, GC included): ${ms(r.maxTurnCpuMs)} CPU, ${n(r.loopTurnsOver)} over 50 ms (${n(r.loopTurnsStopped)} while the whole process stood still: the canary thread could not wake either)`,
    `  peak resident set (speaker and fuzzer): ${r.maxRssMb.toFixed(0)} MB`,
  );
  for (const e of r.exitErrors) lines.push('', `  EXIT: ${e}`);
  for (const e of r.internalErrors) lines.push('', `  INTERNAL ERROR: ${e}`);
  for (const h of r.hangDetails) lines.push(`  HANG: ${h}`);
  for (const d of r.slowSpeakerDetails) lines.push(`  SLOW: ${d}`);
  for (const m of r.mismatches) {
    lines.push(
      '',
      `  WRONG: lane ${m.lane} ${m.state} ${m.label}: expected ${m.expected}, got ${m.observed} [${m.rules.join(', ')}]`,
      `    ${m.hex}`,
    );
  }
  lines.push('', '  verdict table (rule: verdict; source; messages it decided; wrong)');
  for (const [id, row] of r.rules) {
    const rule = RULES[id];
    lines.push(`  ${id}: ${rule.verdict}; ${rule.source}; ${n(row.messages)}; ${n(row.wrong)}`);
  }
  return lines.join('\n');
}
