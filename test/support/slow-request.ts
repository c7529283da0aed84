import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./slow-request-child.ts', import.meta.url));

/** How the slow request ended (slow-request-child.ts). */
export interface SlowRequestOutcome {
  readonly ok: boolean;
  readonly body?: string;
  readonly error?: string;
  /** Header lines (TCP segments) sent while it was in flight. */
  readonly headers: number;
}

export interface SlowRequest {
  /** Ends the request and waits for the answer (or the reset). */
  finish(): Promise<SlowRequestOutcome>;
  /** Kills the child if it still runs (also after a failure). */
  stop(): Promise<void>;
}

/**
 * Starts one HTTP request to `ip` port 80 from the namespace and keeps it in flight (a header
 * line every 100 ms) until `finish()`; resolves once connected.
 */
export async function startSlowRequest(namespace: string, ip: string): Promise<SlowRequest> {
  const child: ChildProcess = spawn('ip', ['netns', 'exec', namespace, process.execPath, CHILD, ip, '80'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    if (stderr.length < 10_000) stderr += chunk;
  });
  const lines: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  let partial = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    partial += chunk;
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
    for (const wake of waiters.splice(0)) wake();
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  child.on('exit', () => {
    for (const wake of waiters.splice(0)) wake();
  });
  const next = async (index: number): Promise<Record<string, unknown>> => {
    while (lines.length <= index) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`slow request: the client exited without answering: ${stderr}`);
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
    return lines[index]!;
  };
  const first = await next(0);
  if (first.connected !== true) throw new Error(`slow request: ${JSON.stringify(first)} ${stderr}`);
  return {
    async finish() {
      child.stdin?.write('finish\n');
      const outcome = lines.length > 1 ? lines[1]! : await next(1);
      return outcome as unknown as SlowRequestOutcome;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}
