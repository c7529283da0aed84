/**
 * The client side of the probe, run as ONE process inside the client namespace
 * (`ip netns exec CLIENT node lab/probe-child.ts URL INTERVAL_MS TIMEOUT_MS`), so the
 * measurement never pays `ip netns exec` start-up per request.
 *
 * It sends an HTTP GET every INTERVAL_MS on a fresh connection (no keep-alive: after a
 * failover the new node knows nothing of an old TCP connection), each bounded by TIMEOUT_MS,
 * and writes one JSON line per finished request on stdout:
 * `{"seq":0,"start":…,"end":…,"ok":true,"status":200,"body":"node-1"}` (times in epoch
 * milliseconds with sub-millisecond precision). First line: `{"ready":true}`. It stops and
 * exits 0 on SIGTERM or when stdin closes, after the requests in flight have finished.
 */
import { request } from 'node:http';

const [url, intervalArg = '20', timeoutArg = '500'] = process.argv.slice(2);
if (url === undefined || !/^http:\/\//.test(url)) {
  process.stderr.write('usage: probe-child.ts http://HOST[:PORT]/PATH [INTERVAL_MS] [TIMEOUT_MS]\n');
  process.exit(2);
}
const intervalMs = Number(intervalArg);
const timeoutMs = Number(timeoutArg);
if (!(intervalMs > 0) || !(timeoutMs > 0)) {
  process.stderr.write(`probe-child: bad interval "${intervalArg}" or timeout "${timeoutArg}"\n`);
  process.exit(2);
}

const now = () => performance.timeOrigin + performance.now();
let seq = 0;
let inFlight = 0;
let stopping = false;
let timer: NodeJS.Timeout | undefined;

function emit(record: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(record)}\n`);
}

function finishIfIdle(): void {
  if (stopping && inFlight === 0) process.exit(0);
}

function probeOnce(): void {
  const id = seq++;
  const start = now();
  inFlight++;
  let done = false;
  const finish = (ok: boolean, extra: Record<string, unknown>) => {
    if (done) return;
    done = true;
    clearTimeout(deadline);
    inFlight--;
    emit({ seq: id, start, end: now(), ok, ...extra });
    finishIfIdle();
  };
  const req = request(url as string, { agent: false, headers: { connection: 'close' } }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      if (body.length < 256) body += chunk;
    });
    res.on('end', () => {
      const status = res.statusCode ?? 0;
      finish(status >= 200 && status < 300, { status, body: body.trim().slice(0, 64) });
    });
    res.on('error', (error) => finish(false, { error: error.message }));
  });
  const deadline = setTimeout(() => {
    req.destroy();
    finish(false, { error: 'timeout' });
  }, timeoutMs);
  req.on('error', (error) =>
    finish(false, { error: (error as NodeJS.ErrnoException).code ?? error.message }),
  );
  req.end();
}

// Self-correcting schedule: request n goes out at t0 + n * interval, whatever the timer drift.
const t0 = now();
function tick(): void {
  if (stopping) return;
  probeOnce();
  timer = setTimeout(tick, Math.max(0, t0 + seq * intervalMs - now()));
}

function stop(): void {
  if (stopping) return;
  stopping = true;
  clearTimeout(timer);
  finishIfIdle();
}

process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
emit({ ready: true });
tick();
