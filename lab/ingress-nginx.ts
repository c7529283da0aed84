/**
 * The lab's ingress controller: Debian's nginx in a node namespace, configured by the lab (not
 * from Kubernetes objects), in front of two backends the lab starts beside it (app-a by path,
 * app-b by host; `ingress-apps.ts`). Started like BIRD: the lab spawns the nginx master itself
 * (`daemon off`), so it is recorded and stopped by PID; its workers end with it, or with the
 * namespace. Config, pid file, logs and temp paths live in a directory of the lab's run dir;
 * /etc/nginx and the system service are never used.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../shared/runtime/wait-for.ts';
import { APP_A, backendAnswer, INGRESS_APPS, nginxConfig } from './ingress-apps.ts';
import { type Lab, type LabDaemon, untilExit, waitForOutput } from './netns.ts';

export const INGRESS_SERVER = fileURLToPath(new URL('./ingress-server.ts', import.meta.url));

/** What serves HTTP on a node: the process on the port and the backends behind it. */
export interface NodeIngress {
  /** nginx's master, or the stand-in. */
  ingress: LabDaemon;
  /** app-a and app-b behind nginx; none behind the stand-in. */
  backends: LabDaemon[];
  /** Resolves once the node serves; throws a clear error (with nginx's own words) if it cannot. */
  ready(timeoutMs?: number): Promise<void>;
}

/** Options of {@link startNginxIngress}. */
export interface NginxIngressOptions {
  /** Directory the lab owns for this nginx (created): config, pid file, logs, temp paths. */
  dir: string;
  /** Where the processes' stdout/stderr go (`nginx-NODE.log`, `app-a-NODE.log`, ...). */
  logDir: string;
  /** Default 80. */
  port?: number;
}

/** The nginx command line for a configuration in `dir`; `-e` keeps even early errors out of /var/log. */
function nginxArgs(dir: string): string[] {
  return ['nginx', '-p', dir, '-c', `${dir}/nginx.conf`, '-e', `${dir}/error.log`];
}

/** nginx's words for a failure, on one line. */
function nginxWords(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^nginx: the configuration file .* syntax is ok$/.test(l));
  return lines.slice(-4).join(' | ') || 'no output';
}

/**
 * Writes the node's nginx.conf, checks it with `nginx -t` (a failure throws with nginx's stderr
 * before anything starts), then starts app-a, app-b and the nginx master in the node namespace.
 */
export async function startNginxIngress(
  lab: Lab,
  node: string,
  options: NginxIngressOptions,
): Promise<NodeIngress> {
  const dir = options.dir.replace(/\/+$/, '');
  const port = options.port ?? 80;
  mkdirSync(`${dir}/tmp`, { recursive: true, mode: 0o755 });
  writeFileSync(`${dir}/nginx.conf`, nginxConfig({ node, dir, port }));
  const where = `config ${dir}/nginx.conf, error log ${dir}/error.log`;
  const test = await lab.exec(node, [...nginxArgs(dir), '-t'], { allowFailure: true });
  if (test.code !== 0) {
    const missing = /exec of "nginx" failed/.test(test.stderr)
      ? " (is Debian's package nginx installed? bash scripts/install-test-deps.sh installs it)"
      : '';
    throw new Error(
      `nginx on ${node}: the configuration test (nginx -t) failed: ${nginxWords(test.stderr)}${missing} (${where})`,
    );
  }
  const backends = INGRESS_APPS.map((app) =>
    lab.spawn(
      node,
      [process.execPath, INGRESS_SERVER, node, String(app.port), '--app', app.name, '--host', '127.0.0.1'],
      { logFile: `${options.logDir}/${app.name}-${node}.log` },
    ),
  );
  const nginx = lab.spawn(node, nginxArgs(dir), { logFile: `${options.logDir}/nginx-${node}.log` });
  return {
    ingress: nginx,
    backends,
    async ready(timeoutMs = 15_000) {
      for (const b of backends) await waitForOutput(b, /listening/, timeoutMs);
      // Served end to end: nginx listens, routes /app-a, and the backend answers.
      const expected = backendAnswer(APP_A.name, node);
      try {
        await waitFor(
          `nginx on ${node} to serve ${APP_A.path}`,
          async () => {
            const r = await lab.exec(
              node,
              ['curl', '-s', '--max-time', '1', `http://127.0.0.1:${port}${APP_A.path}`],
              { allowFailure: true },
            );
            return r.stdout.trim() === expected ? true : undefined;
          },
          { timeoutMs, intervalMs: 50, signal: untilExit(nginx, `nginx on ${node}`) },
        );
      } catch (error) {
        if (nginx.child.exitCode === null && nginx.child.signalCode === null) throw error;
        throw new Error(`nginx on ${node} did not start: ${nginxWords(nginx.output())} (${where})`);
      }
    },
  };
}

/** The minimal stand-in (tests and benchmarks): one responder on port 80 answering the node name. */
export function startStandInIngress(lab: Lab, node: string, logDir: string): NodeIngress {
  const ingress = lab.spawn(node, [process.execPath, INGRESS_SERVER, node, '80'], {
    logFile: `${logDir}/ingress-${node}.log`,
  });
  return {
    ingress,
    backends: [],
    ready: (timeoutMs = 15_000) => waitForOutput(ingress, /listening/, timeoutMs),
  };
}
