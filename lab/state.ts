import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** A process recorded in a lab's state file. */
export interface LabStateProcess {
  pid: number;
  /** /proc/PID/stat start time: a PID recycled by another process has another one. */
  startTime: number;
  argv: readonly string[];
}

/** What a lab writes to its state file so a crashed run can be cleaned up later. */
export interface LabState {
  prefix: string;
  /** The process that built the lab. */
  owner: { pid: number; startTime: number };
  /** Full namespace names. */
  namespaces: string[];
  daemons: LabStateProcess[];
  /** Files and directories to delete. */
  paths: string[];
}

/** Where `metalbeacon lab` and the topology keep their state files, sockets and configs. */
export const LAB_RUN_DIR = '/run/metalbeacon-lab';

/**
 * Start time of a process in clock ticks since boot (field 22 of /proc/PID/stat), or
 * undefined when there is no such process.
 */
export function processStartTime(pid: number): number | undefined {
  return processStat(pid)?.startTime;
}

function processStat(pid: number): { state: string; startTime: number } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state), so field 22 is rest[19].
  const startTime = Number(rest[19]);
  return Number.isFinite(startTime) ? { state: rest[0] ?? '', startTime } : undefined;
}

/**
 * True when `pid` runs and is the same process that was recorded (same start time). A zombie
 * (exited, not yet reaped) does not count as running.
 */
export function isSameProcess(p: { pid: number; startTime: number }): boolean {
  if (p.pid <= 0) return false;
  const now = processStat(p.pid);
  return now !== undefined && now.state !== 'Z' && now.startTime === p.startTime;
}

/** Writes the state file atomically (rename), creating its directory. */
export function writeLabState(file: string, state: LabState): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}

/** Reads a state file; undefined when it does not exist. Throws on a corrupt file. */
export function readLabState(file: string): LabState | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const state = JSON.parse(text) as Partial<LabState>;
  if (
    typeof state.prefix !== 'string' ||
    !Array.isArray(state.namespaces) ||
    !Array.isArray(state.daemons) ||
    !Array.isArray(state.paths) ||
    typeof state.owner?.pid !== 'number'
  ) {
    throw new Error(
      `lab state file ${file} is not a lab state (prefix/namespaces/daemons/paths/owner missing)`,
    );
  }
  return state as LabState;
}

/** What {@link cleanupLabState} did. */
export interface CleanupReport {
  killed: number[];
  namespaces: string[];
  paths: string[];
}

/**
 * Undoes what a state file records: kills the recorded daemons that are still the same
 * processes (PID and start time), deletes the namespaces (killing what still runs in them)
 * and the paths, then the state file itself. Refuses while the owner is alive unless `force`
 * (the owner would fight the cleanup).
 */
export async function cleanupLabState(
  file: string,
  options: { force?: boolean } = {},
): Promise<CleanupReport> {
  const report: CleanupReport = { killed: [], namespaces: [], paths: [] };
  const state = readLabState(file);
  if (!state) return report;
  if (!options.force && state.owner.pid !== process.pid && isSameProcess(state.owner)) {
    throw new Error(`the lab "${state.prefix}" is still running (pid ${state.owner.pid})`);
  }
  for (const d of state.daemons) {
    if (isSameProcess(d)) {
      try {
        process.kill(d.pid, 'SIGKILL');
        report.killed.push(d.pid);
      } catch {
        // Gone meanwhile.
      }
    }
  }
  const { stdout } = await execFileAsync('ip', ['netns', 'list']);
  const existing = new Set(stdout.split('\n').map((line) => line.split(' ')[0] ?? ''));
  for (const ns of state.namespaces) {
    if (!existing.has(ns)) continue;
    const pids = await execFileAsync('ip', ['netns', 'pids', ns]).catch(() => ({ stdout: '' }));
    for (const pid of pids.stdout.split('\n').filter((p) => /^\d+$/.test(p))) {
      if (report.killed.includes(Number(pid))) continue;
      try {
        process.kill(Number(pid), 'SIGKILL');
        report.killed.push(Number(pid));
      } catch {
        // Gone meanwhile.
      }
    }
    await execFileAsync('ip', ['netns', 'delete', ns]).catch(() => undefined);
    report.namespaces.push(ns);
  }
  for (const path of state.paths) {
    await rm(path, { recursive: true, force: true });
    report.paths.push(path);
  }
  await rm(file, { force: true });
  return report;
}
