/**
 * A client-side load generator for failover measurements: starts one HTTP GET every
 * INTERVAL_MS (a new connection each, so every request resolves the path again), each
 * abandoned after TIMEOUT_MS, and prints one JSON line per request:
 * `{"start":EPOCH_MS,"end":EPOCH_MS,"ok":true,"body":"node-2"}` (or `"error":"..."`).
 * Run inside the client namespace: `node lab/prober.ts URL [INTERVAL_MS] [TIMEOUT_MS]`;
 * stops on SIGTERM/SIGINT. Times are wall-clock epoch milliseconds with sub-ms resolution, so
 * another process can compare them with its own `performance.timeOrigin + performance.now()`.
 */
import { request } from 'node:http';

const [url, intervalText = '20', timeoutText = '250'] = process.argv.slice(2);
const intervalMs = Number(intervalText);
const timeoutMs = Number(timeoutText);
if (!url || !/^http:\/\//.test(url) || !(intervalMs > 0) || !(timeoutMs > 0)) {
  process.stderr.write('usage: prober.ts http://HOST[:PORT]/PATH [INTERVAL_MS] [TIMEOUT_MS]\n');
  process.exit(2);
}

const now = (): number => performance.timeOrigin + performance.now();
const emit = (line: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};

function probe(): void {
  const start = now();
  let settled = false;
  const finish = (result: { ok: boolean; body?: string; error?: string }): void => {
    if (settled) return;
    settled = true;
    emit({ start, end: now(), ...result });
  };
  const req = request(url as string, { agent: false, timeout: timeoutMs }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      body += chunk;
    });
    res.on('end', () => finish({ ok: res.statusCode === 200, body: body.trim() }));
    res.on('error', (error) => finish({ ok: false, error: error.message }));
  });
  req.on('timeout', () => {
    finish({ ok: false, error: 'timeout' });
    req.destroy();
  });
  req.on('error', (error) =>
    finish({ ok: false, error: (error as NodeJS.ErrnoException).code ?? error.message }),
  );
  req.end();
}

const timer = setInterval(probe, intervalMs);
probe();
const stop = (): void => {
  clearInterval(timer);
  // Let requests in flight finish or time out, then exit.
  setTimeout(() => process.exit(0), timeoutMs + 50);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
