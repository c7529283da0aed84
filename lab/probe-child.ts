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
 *
 * The bound is on the time this process ran, not on the wall clock: on a loaded machine the
 * probe itself may not be scheduled for hundreds of milliseconds, and its deadline timer then
 * fires, after the stall, before the answer that arrived meanwhile is read (Node runs timers
 * before I/O). Such a request was answered; the network and the node did nothing wrong. So a
 * deadline that finds the process stalled since the request started waits that much longer
 * (client-stall.ts), and the record says how long the client stood still (`stalledMs`). A
 * timeout says whether the TCP connection was up (`connected`): no means the SYN or its answer
 * was lost, yes that the server did not answer in time.
 */
import { request } from 'node:http';
import { deadlineVerdict, nextSlotMs, StallMeter } from './client-stall.ts';

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
/** Beats every STALL_BEAT_MS; a beat over twice that late is a stall of this process. */
const STALL_BEAT_MS = 10;
const stalls = new StallMeter(STALL_BEAT_MS, now());
const beat = setInterval(() => stalls.beat(now()), STALL_BEAT_MS);
let seq = 0;
let inFlight = 0;
let stopping = false;
let timer: NodeJS.Timeout | undefined;

function emit(record: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(record)}\n`);
}

function finishIfIdle(): void {
  if (stopping && inFlight === 0) {
    clearInterval(beat);
    process.exit(0);
  }
}

function probeOnce(): void {
  const id = seq++;
  const start = now();
  const stalledAtStart = stalls.beat(start);
  inFlight++;
  let done = false;
  let connected = false;
  let extendedMs = 0;
  const finish = (ok: boolean, extra: Record<string, unknown>) => {
    if (done) return;
    done = true;
    clearTimeout(deadline);
    inFlight--;
    const end = now();
    const stalledMs = Math.round(stalls.beat(end) - stalledAtStart);
    emit({ seq: id, start, end, ok, ...extra, ...(stalledMs > 0 ? { stalledMs } : {}) });
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
  const onDeadline = (): void => {
    const verdict = deadlineVerdict(stalls.beat(now()) - stalledAtStart, extendedMs);
    if (verdict.kind === 'extend') {
      // Stood still: what arrived meanwhile is read after this timer; the bound counts run time.
      extendedMs += verdict.byMs;
      deadline = setTimeout(onDeadline, verdict.byMs);
      return;
    }
    req.destroy();
    finish(false, { error: 'timeout', connected });
  };
  let deadline = setTimeout(onDeadline, timeoutMs);
  req.on('socket', (socket) =>
    socket.once('connect', () => {
      connected = true;
    }),
  );
  req.on('error', (error) =>
    finish(false, { error: (error as NodeJS.ErrnoException).code ?? error.message }),
  );
  req.end();
}

// Self-correcting schedule: requests go out at t0 + n * interval, whatever the timer drift;
// slots missed while this process stood still are skipped (nextSlotMs).
const t0 = now();
function tick(): void {
  if (stopping) return;
  probeOnce();
  timer = setTimeout(tick, Math.max(0, nextSlotMs(t0, intervalMs, now()) - now()));
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
