import { spawn } from 'node:child_process';

/** A Node script running inside a network namespace that reports in JSON lines on stdout. */
export interface JsonLinesChild {
  /** Resolves true once `condition()` holds (checked after each line), false if the process ends first. */
  until(condition: () => boolean): Promise<boolean>;
  /** Writes to the script's stdin. */
  write(text: string): void;
  /** The exit code (null after a signal, -1 when it could not start). */
  readonly exited: Promise<number | null>;
  running(): boolean;
  /** The script's process ID (`ip netns exec` runs it in its own place), undefined if it could not start. */
  readonly pid: number | undefined;
  /** What the script wrote on stderr (the first 100 kB), for error messages. */
  stderr(): string;
  /** SIGTERM, SIGKILL after 5 s; waits for the exit. */
  stop(): Promise<void>;
}

/**
 * Runs `node ARGS` (this process's Node) inside `namespace` as one process, so a measurement
 * never pays `ip netns exec` start-up per action; every stdout line is parsed as JSON and
 * handed to `onLine`.
 */
export function spawnJsonLines(
  namespace: string,
  args: readonly string[],
  onLine: (line: Record<string, unknown>) => void,
): JsonLinesChild {
  const child = spawn('ip', ['netns', 'exec', namespace, process.execPath, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  let partial = '';
  const waiters = new Set<() => void>();
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    partial += chunk;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) if (line !== '') onLine(JSON.parse(line) as Record<string, unknown>);
    for (const w of [...waiters]) w();
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    if (stderr.length < 100_000) stderr += chunk;
  });
  child.stdin.on('error', () => undefined);
  let done = false;
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => resolve(code));
    child.on('error', (error) => {
      stderr += `spawn error: ${error.message}\n`;
      resolve(-1);
    });
  }).finally(() => {
    done = true;
    for (const w of [...waiters]) w();
  });
  return {
    until: (condition) =>
      new Promise<boolean>((resolve) => {
        const check = (): void => {
          if (!condition() && !done) return;
          waiters.delete(check);
          resolve(condition());
        };
        waiters.add(check);
        check();
      }),
    write: (text) => {
      child.stdin.write(text);
    },
    exited,
    running: () => !done,
    pid: child.pid,
    stderr: () => stderr,
    async stop() {
      if (!done) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
