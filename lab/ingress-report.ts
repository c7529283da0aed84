/**
 * The user's story in `metalbeacon lab`'s report: from the client, `curl http://VIP/app-a` and
 * `curl -H 'Host: b.example' http://VIP/` through a VIP, each line naming the backend and the
 * node that answered (nginx on that node routed it), and whether that was the right backend.
 */

import type { CurlResult } from './curl.ts';
import { APP_A, APP_B, parseBackendAnswer } from './ingress-apps.ts';
import type { Topology } from './topology.ts';

/** The base URL of a VIP (`http://198.51.100.1`, `http://[2001:db8:100::1]`), no slash. */
export function vipBase(ip: string): string {
  return ip.includes(':') ? `http://[${ip}]` : `http://${ip}`;
}

/** The URL the failovers request: through nginx to app-a. */
export function appAUrl(ip: string): string {
  return `${vipBase(ip)}${APP_A.path}`;
}

/** One of the two requests: how the report prints it, and the backend that must answer. */
export interface IngressRequest {
  label: string;
  url: string;
  host?: string;
  app: string;
}

/** `/app-a` by path and `/` with Host b.example, for one VIP. */
export function ingressRequests(ip: string): [IngressRequest, IngressRequest] {
  const base = vipBase(ip);
  return [
    { label: `curl ${base}${APP_A.path}`, url: `${base}${APP_A.path}`, app: APP_A.name },
    {
      label: `curl -H 'Host: ${APP_B.host}' ${base}/`,
      url: `${base}/`,
      host: APP_B.host,
      app: APP_B.name,
    },
  ];
}

/**
 * Why an answer is not the expected backend (on `node`, when given), or undefined when it is.
 * Pure: the report and its tests share it.
 */
export function wrongAnswer(r: CurlResult, app: string, node?: string): string | undefined {
  if (!r.ok) return r.status ? `HTTP ${r.status}: ${r.body}` : `no answer (curl exit ${r.exitCode})`;
  const answer = parseBackendAnswer(r.body);
  if (!answer) return `not a backend's answer: ${JSON.stringify(r.body)}`;
  if (answer.app !== app) return `${answer.app} answered, not ${app}`;
  if (node !== undefined && answer.node !== node) return `served on ${answer.node}, not on ${node}`;
  return undefined;
}

/** One request from the client; the report line's tail (`-> app-a on node-1 (3 ms)`) and whether it is right. */
export async function curlIngress(
  t: Topology,
  request: IngressRequest,
  node?: string,
): Promise<{ result: CurlResult; text: string; ok: boolean }> {
  const result = await t.curlFrom('client', request.url, {
    timeoutMs: 2_000,
    ...(request.host ? { host: request.host } : {}),
  });
  const wrong = wrongAnswer(result, request.app, node);
  const text = `-> ${result.ok ? result.body : 'nothing'} (${result.ms} ms)${wrong ? `  FAILED: ${wrong}` : ''}`;
  return { result, text, ok: wrong === undefined };
}

/**
 * Twelve requests for /app-a through the router (new connections: ECMP spreads them) and one
 * with Host b.example; one report line each. False when a request failed or a wrong backend
 * answered.
 */
export async function ecmpIngressCurls(
  t: Topology,
  ip: string,
  step: (line: string) => void,
): Promise<boolean> {
  const [byPath, byHost] = ingressRequests(ip);
  const counts = new Map<string, number>();
  const wrong: string[] = [];
  for (let i = 0; i < 12; i++) {
    const r = await t.curlFrom('client', byPath.url, { timeoutMs: 2_000 });
    const why = wrongAnswer(r, byPath.app);
    if (why) wrong.push(why);
    else counts.set(r.body, (counts.get(r.body) ?? 0) + 1);
  }
  const spread = [...counts]
    .sort()
    .map(([body, n]) => `${body} x${n}`)
    .join(', ');
  step(
    `  12 x ${byPath.label} from the client's far-side leg, through the router: ${spread}${wrong.length ? `, ${wrong.length} failed (${wrong[0]})` : ''}`,
  );
  const host = await curlIngress(t, byHost);
  step(`  ${byHost.label} through the router ${host.text}`);
  return wrong.length === 0 && counts.size > 0 && host.ok;
}
