/**
 * `metalbeacon lab`: builds the topology with nginx as the ingress controller on every node
 * (`/app-a` -> app-a, Host b.example -> app-b), runs the controller and three speakers, creates
 * the ingress Services and shows from the client what MetalBeacon does: the assigned IPs, both
 * routes answered by the right backend through the L2 (ARP/NDP) VIPs and through the BGP VIPs
 * (ECMP in the router), and a live failover through nginx in each mode (L2: another node
 * answers ARP; BGP: BFD takes the lost node's next hop out). Every check prints one
 * line as it goes; a summary line `RESULT l2=... bgp=... failover=... bgp-failover=...` ends the
 * report. Everything is removed on return, on failure and on abort (Ctrl-C).
 */
import { fileURLToPath } from 'node:url';
import { API_VERSION, DEFAULT_NAMESPACE, PLURALS, StatusLabels } from '../shared/api/names.ts';
import { CliError } from '../shared/cli/errors.ts';
import { bgpFailoverDemo, type Poll } from './bgp-failover-demo.ts';
import { analyzeFailover, parseProbes } from './failover.ts';
import { parseBackendAnswer } from './ingress-apps.ts';
import { appAUrl, curlIngress, ecmpIngressCurls, ingressRequests } from './ingress-report.ts';
import type { LabDaemon } from './netns.ts';
import { listNamespaces, removeNamespace } from './netns.ts';
import { cleanupLabState, isSameProcess, LAB_RUN_DIR, readLabState } from './state.ts';
import { LAB_ADDRESSES, startTopology, type Topology } from './topology.ts';
import { serveUserServices } from './user-services.ts';

const MANIFESTS = fileURLToPath(new URL('./manifests', import.meta.url));
/** Applied by a kept lab only: the self-assigning pool for the user's own Services. */
const KEPT_MANIFESTS = fileURLToPath(new URL('./manifests/kept', import.meta.url));
const PROBER = fileURLToPath(new URL('./prober.ts', import.meta.url));

/** The namespace prefix of `metalbeacon lab` (namespaces mb-client, mb-node-1, ...). */
export const LAB_PREFIX = 'mb';

/** Options of {@link runLabDemo}. */
export interface LabDemoOptions {
  mode: 'l2' | 'bgp' | 'both';
  /** Keep the lab running after the report until `signal` aborts. */
  keep: boolean;
  /** Run the link-cut failover demos (L2 and BGP). */
  failover: boolean;
  /** Report lines (stdout). */
  out: (line: string) => void;
  /** Aborted by Ctrl-C / SIGTERM. */
  signal: AbortSignal;
  /** Extra `metalbeacon speaker` arguments. */
  speakerArgs?: readonly string[];
  prefix?: string;
}

/** Outcome of each part of the demo. */
export interface LabDemoResult {
  l2: 'ok' | 'failed' | 'skipped';
  bgp: 'ok' | 'failed' | 'skipped';
  /** L2: milliseconds until the client was served again, or why not. */
  failover: number | 'failed' | 'skipped';
  /** BGP: milliseconds the new flows hashed to the lost node failed, or why not. */
  bgpFailover: number | 'failed' | 'skipped';
}

/** An interrupted run (Ctrl-C): the caller exits 130 after the cleanup. */
export class LabInterrupted extends Error {
  constructor() {
    super('interrupted');
    this.name = 'LabInterrupted';
  }
}

/** The state file of a lab prefix. */
export function labStateFile(prefix = LAB_PREFIX): string {
  return `${LAB_RUN_DIR}/${prefix}/state.json`;
}

/**
 * Removes what a run of `metalbeacon lab` left behind: asks a lab still running (`--keep`) to
 * stop, then deletes recorded daemons, namespaces `PREFIX-*` and files. Returns what it did.
 */
export async function labDown(
  prefix = LAB_PREFIX,
  say: (line: string) => void = () => undefined,
): Promise<string[]> {
  const file = labStateFile(prefix);
  const done: string[] = [];
  const state = readLabState(file);
  if (state && state.owner.pid !== process.pid && isSameProcess(state.owner)) {
    say(`a lab is running (pid ${state.owner.pid}): asking it to stop`);
    process.kill(state.owner.pid, 'SIGTERM');
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && isSameProcess(state.owner)) await sleep(200);
    done.push(`stopped the running lab (pid ${state.owner.pid})`);
  }
  const report = await cleanupLabState(file, { force: true });
  if (report.killed.length)
    done.push(`killed ${report.killed.length} leftover process(es): ${report.killed.join(' ')}`);
  if (report.namespaces.length) done.push(`deleted namespaces ${report.namespaces.join(' ')}`);
  if (report.paths.length) done.push(`removed ${report.paths.join(' ')}`);
  const stray = await listNamespaces(prefix);
  for (const ns of stray) await removeNamespace(ns);
  if (stray.length) done.push(`deleted unrecorded namespaces ${stray.join(' ')}`);
  return done;
}

/** Settles with `promise`, or rejects as soon as `signal` aborts (Ctrl-C need not wait for a timeout). */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs the demo; always removes the lab before returning or throwing. */
export async function runLabDemo(o: LabDemoOptions): Promise<LabDemoResult> {
  const prefix = o.prefix ?? LAB_PREFIX;
  const t0 = performance.now();
  const step = (line: string): void => {
    o.signal.throwIfAborted();
    o.out(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${line}`);
  };
  const pause = async (ms: number): Promise<void> => {
    o.signal.throwIfAborted();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      o.signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
    o.signal.throwIfAborted();
  };
  /** Polls until `check` gives a value; undefined after `timeoutMs`. */
  const poll = async <T>(check: () => Promise<T | undefined>, timeoutMs: number, everyMs = 200) => {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const value = await check();
      if (value !== undefined) return value;
      if (performance.now() > deadline) return undefined;
      await pause(everyMs);
    }
  };

  const file = labStateFile(prefix);
  const previous = readLabState(file);
  if (previous && isSameProcess(previous.owner) && previous.owner.pid !== process.pid) {
    throw new CliError(`a lab is already running (pid ${previous.owner.pid})`, {
      hint: 'explore it, or stop it with: metalbeacon lab down',
    });
  }
  if (previous || (await listNamespaces(prefix)).length > 0) {
    const done = await labDown(prefix);
    step(`removed leftovers of an earlier run (${done.join('; ') || 'nothing left'})`);
  }

  const result: LabDemoResult = {
    l2: 'skipped',
    bgp: 'skipped',
    failover: 'skipped',
    bgpFailover: 'skipped',
  };
  const withL2 = o.mode !== 'bgp';
  const withBgp = o.mode !== 'l2';
  let topo: Topology | undefined;
  try {
    topo = await startTopology({
      prefix,
      manifests: [MANIFESTS],
      log: step,
      signal: o.signal,
      detachDaemons: true,
      ingress: 'nginx',
    });
    const t = topo;
    step(`namespaces ${t.lab.namespaces().join(' ')}`);
    step(
      `pools applied: lab-l2 (198.51.100.0/26), lab-dual (198.51.100.128/26 + 2001:db8:100::80/122), lab-bgp (198.51.100.64/26 + 2001:db8:100::40/122)`,
    );
    step('controller (assigns IPs)');
    const controller = await t.startController();
    step(
      'speakers on node-1, node-2, node-3 (each in its namespace, API over HTTPS via 127.0.0.1:443 with a ServiceAccount token)',
    );
    await abortable(
      Promise.all(t.nodes.map((n) => t.startSpeaker(n.name, o.speakerArgs ?? [], { timeoutMs: 40_000 }))),
      o.signal,
    ).catch((error: unknown) => {
      o.signal.throwIfAborted();
      const exited = t.nodes.filter((n) => n.speaker && n.speaker.child.exitCode !== null);
      const why = exited.length
        ? exited.map((n) => `${n.name} exited: ${crashLines(n.speaker?.output() ?? '')}`).join('; ')
        : firstLines(error);
      throw new CliError(`a speaker did not start: ${why}`, {
        hint: 'metalbeacon speaker --help; the speaker logs JSON lines to stdout',
      });
    });
    step('speakers ready');
    if (controller.child.exitCode !== null) {
      throw new CliError(`the controller exited: ${lastLines(controller.output())}`);
    }

    const services: { name: string; pool: string; mode: string; families: ('IPv4' | 'IPv6')[] }[] = [];
    if (withL2) {
      services.push({ name: 'ingress-l2', pool: 'lab-l2', mode: 'L2', families: ['IPv4'] });
      services.push({ name: 'ingress-dual', pool: 'lab-dual', mode: 'L2', families: ['IPv4', 'IPv6'] });
    }
    if (withBgp)
      services.push({ name: 'ingress-bgp', pool: 'lab-bgp', mode: 'BGP', families: ['IPv4', 'IPv6'] });
    step(`ingress Services: ${services.map((s) => s.name).join(', ')} (endpoints on every node)`);
    for (const s of services) t.createIngressService(s.name, { pool: s.pool, families: s.families });
    const ips = new Map<string, string[]>();
    for (const s of services) {
      const assigned = await abortable(t.waitForServiceIps(s.name, { timeoutMs: 20_000 }), o.signal).catch(
        () => {
          o.signal.throwIfAborted();
          throw new CliError(`the controller assigned no IP to ${s.name} within 20 s`, {
            hint: `controller log: ${lastLines(controller.output())}`,
          });
        },
      );
      ips.set(s.name, assigned);
    }
    o.out('');
    o.out('  SERVICE        POOL      MODE  EXTERNAL-IP');
    for (const s of services) {
      o.out(
        `  ${s.name.padEnd(14)} ${s.pool.padEnd(9)} ${s.mode.padEnd(5)} ${(ips.get(s.name) ?? []).join(', ')}`,
      );
    }
    o.out('');

    const nodeByMac = new Map(t.nodes.map((n) => [n.link.mac, n.name]));
    if (withL2) {
      step('L2: the client (on the LAN) asks for the IPs by ARP / NDP; the owner node answers');
      const l2Targets = [
        (ips.get('ingress-l2') ?? [])[0],
        ...(ips.get('ingress-dual') ?? []).filter((ip) => ip.includes(':')),
      ].filter((ip): ip is string => ip !== undefined);
      let ok = l2Targets.length > 0;
      for (const ip of l2Targets) {
        const [byPath, byHost] = ingressRequests(ip);
        const r = await poll(async () => {
          const c = await t.curlFrom('client', byPath.url, { timeoutMs: 1_000 });
          return c.ok ? c : undefined;
        }, 15_000);
        if (!r) {
          ok = false;
          step(`  ${byPath.label}  FAILED (no answer within 15 s)`);
          continue;
        }
        const neighbour = await t.lab.neighbour('client', ip);
        const owner = neighbour?.mac ? (nodeByMac.get(neighbour.mac) ?? neighbour.mac) : '?';
        // Both routes must be answered on the node that owns the IP, by the right backend.
        const path = await curlIngress(t, byPath, owner);
        const host = await curlIngress(t, byHost, owner);
        step(
          `  ${byPath.label.padEnd(byHost.label.length)} ${path.text}; ${ip.includes(':') ? 'NDP' : 'ARP'}: ${ip} is at ${neighbour?.mac ?? '?'} (${owner})`,
        );
        step(`  ${byHost.label} ${host.text}`);
        if (!path.ok || !host.ok) ok = false;
      }
      result.l2 = ok ? 'ok' : 'failed';
    }

    if (withBgp) {
      step('BGP: every node advertises the IPs to the router (BIRD); the router spreads traffic (ECMP)');
      const bgpIps = ips.get('ingress-bgp') ?? [];
      let ok = bgpIps.length === 2;
      for (const ip of bgpIps) {
        const family = ip.includes(':') ? 'IPv6' : 'IPv4';
        const host = `${ip}/${family === 'IPv4' ? 32 : 128}`;
        const route = await poll(async () => {
          const [r] = await t.kernelRoutes(family, host);
          return r && r.nextHops.length === t.nodes.length ? r : undefined;
        }, 30_000);
        const birdRoute = (await t.birdRoutes(host)).find((r) => r.prefix === host);
        const paths = (birdRoute?.paths ?? []).map((p) => `${p.via ?? '?'}${p.best ? '*' : ''}`);
        step(`  BIRD ${host}: ${paths.length} path(s) via ${paths.join(', ') || 'none'}`);
        if (!route) {
          ok = false;
          step(
            `  router kernel: no ECMP route for ${host} with ${t.nodes.length} next hops within 30 s  FAILED`,
          );
          continue;
        }
        step(`  router kernel: ${host} nexthops ${route.nextHops.join(', ')}`);
        if (!(await ecmpIngressCurls(t, ip, step))) ok = false;
      }
      result.bgp = ok ? 'ok' : 'failed';
    }

    if (withL2 && o.failover) {
      result.failover = await failoverDemo(t, (ips.get('ingress-l2') ?? [])[0], step, poll, pause);
    }
    if (withBgp && o.failover) {
      const vip = (ips.get('ingress-bgp') ?? []).find((ip) => !ip.includes(':'));
      result.bgpFailover = await bgpFailoverDemo(t, vip, step, poll);
    }
    const msText = (v: LabDemoResult['failover']) => (typeof v === 'number' ? `${v}ms` : v);
    if (typeof result.failover === 'number' || typeof result.bgpFailover === 'number') {
      const l2Text =
        typeof result.failover === 'number' ? `L2 ${result.failover} ms` : `L2 ${result.failover}`;
      const bgpText =
        typeof result.bgpFailover === 'number' ? `BGP ${result.bgpFailover} ms` : `BGP ${result.bgpFailover}`;
      step(`node failover: ${l2Text}; ${bgpText} (BFD; without it BGP waits for the 9 s hold time)`);
    }

    o.out('');
    o.out(
      `RESULT l2=${result.l2} bgp=${result.bgp} failover=${msText(result.failover)} bgp-failover=${msText(result.bgpFailover)}`,
    );

    if (o.keep) {
      t.applyManifests([KEPT_MANIFESTS]);
      const serving = serveUserServices(t, o.signal, o.out);
      explore(t, ips, prefix, o.out);
      await serving;
      o.out('stopping the lab');
    }
    return result;
  } catch (error) {
    if (o.signal.aborted) throw new LabInterrupted();
    throw error;
  } finally {
    // startTopology removes what it made itself when it fails or is aborted.
    await topo?.stop();
    o.out(`removed the lab (namespaces ${prefix}-*, processes, ${LAB_RUN_DIR}/${prefix})`);
  }
}

/** Cuts the L2 owner's link under a 20 ms request stream and measures until the client is served again. */
async function failoverDemo(
  t: Topology,
  ip: string | undefined,
  step: (line: string) => void,
  poll: Poll,
  pause: (ms: number) => Promise<void>,
): Promise<number | 'failed'> {
  if (!ip) return 'failed';
  const url = appAUrl(ip);
  const first = await t.curlFrom('client', url);
  const owner = parseBackendAnswer(first.body)?.node;
  if (!first.ok || owner === undefined) {
    step(`failover: ${url} does not answer before the cut (${first.status} ${first.body})  FAILED`);
    return 'failed';
  }
  step(
    `failover: ${owner} owns ${ip}; the client requests ${url} (through nginx to app-a) every 20 ms; pulling ${owner}'s cable (LAN and API)`,
  );
  const prober: LabDaemon = t.lab.spawn('client', [process.execPath, PROBER, url, '20', '250']);
  try {
    const probes = () => parseProbes(prober.output());
    const warm = await poll(
      async () => (probes().filter((l) => l.ok).length >= 5 ? true : undefined),
      5_000,
      50,
    );
    if (!warm) {
      step(`failover: the request stream did not start: ${lastLines(prober.output())}  FAILED`);
      return 'failed';
    }
    // A pulled cable: the node loses the LAN and, with it, the API server.
    await t.cutLink(owner);
    await t.isolateFromApi(owner);
    // The link is down once `ip` returns; a request started just before may still get through.
    const cutAt = performance.timeOrigin + performance.now();
    // Another node's nginx answering: a different body than the owner's `app-a on node-N`.
    const outcome = await poll(async () => analyzeFailover(probes(), cutAt, first.body), 15_000, 20);
    if (!outcome) {
      step('failover: not served again within 15 s  FAILED');
      return 'failed';
    }
    // Requests still in flight when the client was served again end within their 250 ms timeout.
    await pause(300);
    const final = analyzeFailover(probes(), cutAt, first.body) ?? outcome;
    const ms = Math.round(final.servedAgainMs);
    const servedBy = parseBackendAnswer(final.servedBy)?.node ?? final.servedBy;
    step(
      `failover: served again by ${servedBy} (${final.servedBy}, through its nginx) after ${ms} ms (${final.failedRequests} request(s) failed meanwhile)`,
    );
    // The API shows it too (kubectl get servicel2statuses): the status object names the new node.
    const nodes = await poll(async () => {
      const names = await l2StatusNodes(t, 'ingress-l2');
      return names.includes(servedBy) ? names : undefined;
    }, 5_000);
    const stale = nodes?.includes(owner) ? ` (${owner}'s is stale: cut off, it cannot update the API)` : '';
    step(
      nodes
        ? `ServiceL2Status objects of ingress-l2 name ${nodes.join(', ')}${stale}`
        : `ServiceL2Status of ingress-l2 does not name ${servedBy} after 5 s`,
    );
    return ms;
  } finally {
    await prober.stop(2_000);
    await t.restoreLink(owner);
    await t.reconnectApi(owner);
    step(`restored ${owner}'s link`);
  }
}

/** Nodes named by the ServiceL2Status objects of a Service in the default namespace. */
async function l2StatusNodes(t: Topology, service: string): Promise<string[]> {
  const selector = encodeURIComponent(
    `${StatusLabels.ServiceName}=${service},${StatusLabels.ServiceNamespace}=default`,
  );
  const list = (await t.getObject(
    `/apis/${API_VERSION}/namespaces/${DEFAULT_NAMESPACE}/${PLURALS.ServiceL2Status}?labelSelector=${selector}`,
  )) as unknown as { items?: { metadata: { labels?: Record<string, string> } }[] } | undefined;
  return (list?.items ?? []).map((o) => o.metadata.labels?.[StatusLabels.Node] ?? '?');
}

/**
 * What to try in a kept lab: each line after "Try:" is a command that runs as printed from the
 * repository on a fresh clone (`npm run kubectl` brings kubectl; test/lab/lab-cli.test.ts runs
 * them all), with a comment after `#` where it helps.
 */
function explore(t: Topology, ips: Map<string, string[]>, prefix: string, out: (line: string) => void): void {
  const ns = (short: string) => t.lab.ns(short);
  const l2 = (ips.get('ingress-l2') ?? [])[0];
  const dual6 = (ips.get('ingress-dual') ?? []).find((ip) => ip.includes(':'));
  const bgp = (ips.get('ingress-bgp') ?? [])[0];
  const down = `npm run metalbeacon -- lab down${prefix === LAB_PREFIX ? '' : ` --prefix ${prefix}`}`;
  const kube = `KUBECONFIG=${t.kubeconfig}`;
  out('');
  out(`The lab keeps running. Ctrl-C here (or \`${down}\` elsewhere) removes it. Try:`);
  if (l2) {
    out(
      `  ip netns exec ${ns('client')} curl http://${l2}/app-a            # nginx routes the path to app-a`,
    );
    out(`  ip netns exec ${ns('client')} curl -H 'Host: b.example' http://${l2}/   # and the host to app-b`);
  }
  if (dual6) out(`  ip netns exec ${ns('client')} curl -g 'http://[${dual6}]/app-a'`);
  if (bgp) out(`  ip netns exec ${ns('client')} curl ${appAUrl(bgp)}          # through the router (ECMP)`);
  out(`  ip netns exec ${ns('client')} ip neigh                          # who answered ARP/NDP`);
  out(`  ip netns exec ${ns('router')} birdc -s ${t.runDir}/bird.ctl show route all`);
  out(`  ip netns exec ${ns('router')} ip route show proto bird`);
  out(`  tail -n 20 ${t.runDir}/logs/speaker-node-1.log           # every daemon logs to ${t.runDir}/logs/`);
  out(`  tail -n 5 ${t.runDir}/nginx-node-1/access.log          # nginx.conf and logs of node-1's nginx`);
  out(
    `  ${kube} npm run -s metalbeacon -- status              # IPs, announcers, sessions, pools; --watch: live`,
  );
  out(
    `  ${kube} npm run -s kubectl -- create service loadbalancer web --tcp=80:80   # an IP from lab-user, answered by every node`,
  );
  out(`  ${kube} npm run -s kubectl -- get svc -A`);
  out(
    `  ${kube} npm run -s kubectl -- get ipaddresspools,servicel2statuses,servicebgpstatuses -n metalbeacon-system`,
  );
  out(
    `  ip netns exec ${ns('lan')} ip link set ${t.node('node-1').link.portName} down   # cut node-1's cable ('up' restores)`,
  );
  out(
    `  # namespaces: ${t.lab.namespaces().join(' ')}; router far side ${LAB_ADDRESSES.router.far}, client far side ${LAB_ADDRESSES.client.far}`,
  );
}

function firstLines(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n').slice(0, 6).join(' | ');
}

/** The end of a crashed process's output: its non-JSON lines (a stack trace) or else its last lines. */
function crashLines(output: string): string {
  const plain = output
    .trim()
    .split('\n')
    .filter((line) => line.trim() && !line.startsWith('{'));
  const at = plain.findIndex((line) => /^(\w*Error\b|error:)/.test(line));
  if (at >= 0) return plain.slice(at, at + 2).join(' | ');
  return plain.length ? plain.slice(-3).join(' | ') : lastLines(output, 3);
}

function lastLines(text: string, n = 5): string {
  return text.trim().split('\n').slice(-n).join(' | ');
}
