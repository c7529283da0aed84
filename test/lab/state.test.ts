import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { listNamespaces } from '../../lab/netns.ts';
import {
  cleanupLabState,
  isSameProcess,
  processStartTime,
  readLabState,
  writeLabState,
} from '../../lab/state.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';

// `metalbeacon lab down` after a crash: the state file names the namespaces, the daemons
// (PID + start time) and the files of a run whose process is gone.
describe('lab state file', () => {
  it('cleans up after a dead owner: kills recorded daemons, deletes namespaces and files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mb-labstate-'));
    const ns = 'labstate-x';
    execFileSync('ip', ['netns', 'add', ns]);
    // The daemon is our child (so we reap it); the recorded owner is a process that has exited.
    const daemon = spawn('ip', ['netns', 'exec', ns, 'sleep', '60'], { stdio: 'ignore' });
    const exited = new Promise((resolve) => daemon.on('exit', resolve));
    const owner = spawnSync('true');
    assert.equal(owner.status, 0);
    const pid = daemon.pid ?? -1;
    await waitFor('sleep to run', () => (processStartTime(pid) !== undefined ? true : undefined));
    const file = join(dir, 'state.json');
    const scratch = join(dir, 'scratch');
    mkdirSync(scratch);
    writeFileSync(join(scratch, 'api.sock'), '');
    writeLabState(file, {
      prefix: 'labstate',
      owner: { pid: owner.pid ?? 1, startTime: 1 },
      namespaces: [ns],
      daemons: [{ pid, startTime: processStartTime(pid) ?? 0, argv: ['sleep', '60'] }],
      paths: [scratch],
    });
    assert.equal(readLabState(file)?.namespaces[0], ns);
    const report = await cleanupLabState(file);
    assert.ok(report.killed.includes(pid));
    await exited;
    assert.deepEqual(await listNamespaces('labstate'), []);
    assert.equal(existsSync(scratch), false);
    assert.equal(existsSync(file), false);
    assert.equal(readLabState(file), undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses while the owner runs, and never kills a recycled PID', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mb-labstate-'));
    const file = join(dir, 'state.json');
    const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
    const exited = new Promise((resolve) => sleeper.on('exit', resolve));
    const pid = sleeper.pid ?? -1;
    await waitFor('sleep to run', () => (processStartTime(pid) !== undefined ? true : undefined));
    const start = processStartTime(pid) ?? 0;
    writeLabState(file, {
      prefix: 'labstate2',
      owner: { pid, startTime: start },
      namespaces: [],
      daemons: [],
      paths: [],
    });
    await assert.rejects(cleanupLabState(file), /still running \(pid \d+\)/);
    // Same PID, another start time: a different process that must survive.
    writeLabState(file, {
      prefix: 'labstate2',
      owner: { pid: 1, startTime: -1 },
      namespaces: [],
      daemons: [{ pid, startTime: start + 1, argv: ['old'] }],
      paths: [],
    });
    const report = await cleanupLabState(file);
    assert.deepEqual(report.killed, []);
    assert.ok(isSameProcess({ pid, startTime: start }), 'the unrelated process still runs');
    sleeper.kill();
    await exited;
    rmSync(dir, { recursive: true, force: true });
  });

  it('rejects a file that is not a lab state', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mb-labstate-'));
    const file = join(dir, 'state.json');
    writeFileSync(file, '{"hello": 1}');
    assert.throws(() => readLabState(file), /not a lab state/);
    rmSync(dir, { recursive: true, force: true });
  });
});
