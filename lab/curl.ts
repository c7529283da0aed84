/** One HTTP request with curl from inside a lab namespace, as a client on the LAN makes it. */
import type { Lab } from './netns.ts';

/** The result of one HTTP request from a client namespace. */
export interface CurlResult {
  ok: boolean;
  /** HTTP status, 0 when there was no response. */
  status: number;
  /** Response body, trimmed (the stand-in answers its node name, nginx's backends `app-a on node-1`). */
  body: string;
  /** curl's exit code (0 on success, 28 timeout, 7 refused...). */
  exitCode: number;
  /** Total time curl measured, in ms. */
  ms: number;
}

/** One HTTP GET with curl inside `ns`; `host` sets the Host header. Never throws on a failed request. */
export async function curlFrom(
  lab: Lab,
  ns: string,
  url: string,
  options: { timeoutMs?: number; host?: string } = {},
): Promise<CurlResult> {
  const seconds = ((options.timeoutMs ?? 2_000) / 1000).toFixed(3);
  const header = options.host === undefined ? [] : ['-H', `Host: ${options.host}`];
  const r = await lab.exec(
    ns,
    ['curl', '-sg', '--max-time', seconds, ...header, '-o', '-', '-w', '\n%{http_code} %{time_total}', url],
    { allowFailure: true, timeoutMs: (options.timeoutMs ?? 2_000) + 5_000 },
  );
  const lines = r.stdout.split('\n');
  const [status = '0', total = '0'] = (lines.pop() ?? '').split(' ');
  const code = Number(status);
  return {
    ok: r.code === 0 && code >= 200 && code < 300,
    status: code,
    body: lines.join('\n').trim(),
    exitCode: r.code,
    ms: Math.round(Number(total) * 1000),
  };
}
