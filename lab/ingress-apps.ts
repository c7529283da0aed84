/**
 * What the lab's ingress serves, as pure rules: the two backends (app-a by path, app-b by
 * host), how a backend answers (its name and its node, so the client sees who served), and the
 * nginx configuration of one node. `ingress-nginx.ts` runs it; `ingress-server.ts` is the
 * backend (and, without `--app`, the minimal stand-in the tests and benchmarks keep).
 */

/** Routed by path: `curl http://VIP/app-a`. */
export const APP_A = { name: 'app-a', port: 8081, path: '/app-a' } as const;
/** Routed by host: `curl -H 'Host: b.example' http://VIP/`. */
export const APP_B = { name: 'app-b', port: 8082, host: 'b.example' } as const;
/** The backends nginx proxies to on every node, each on the node's loopback. */
export const INGRESS_APPS = [APP_A, APP_B] as const;

/** The body a backend answers: `app-a on node-2`. */
export function backendAnswer(app: string, node: string): string {
  return `${app} on ${node}`;
}

/** The backend and node of an answer of {@link backendAnswer}; undefined for anything else. */
export function parseBackendAnswer(body: string): { app: string; node: string } | undefined {
  const match = /^([a-z0-9][a-z0-9.-]*) on ([a-z0-9][a-z0-9.-]*)$/.exec(body.trim());
  return match ? { app: match[1]!, node: match[2]! } : undefined;
}

/** Options of {@link nginxConfig}. */
export interface NginxConfigOptions {
  /** The node whose namespace nginx runs in (named in the default server's 404). */
  node: string;
  /** Absolute directory the lab owns: pid file, logs and temp paths live there. */
  dir: string;
  /** Port nginx listens on, on every address of the namespace (IPv4 and IPv6). */
  port: number;
}

const NAME_RE = /^[a-z0-9][a-z0-9-]*$/;
// Characters nginx would read as syntax (quotes, braces, `;`, `$`, whitespace) stay out of paths.
const DIR_RE = /^\/[A-Za-z0-9._/-]+$/;

/**
 * nginx.conf for one node: a master in the foreground (`daemon off`, so the lab holds its PID),
 * everything it writes in `dir` (nothing under /etc/nginx or /var), `location /app-a` to app-a
 * and `server_name b.example` to app-b, and a default server that answers 404 naming the node,
 * as an ingress controller's default backend does.
 */
export function nginxConfig(o: NginxConfigOptions): string {
  if (!NAME_RE.test(o.node)) throw new Error(`nginx config: node name "${o.node}" is not [a-z0-9-]`);
  if (!DIR_RE.test(o.dir)) throw new Error(`nginx config: directory "${o.dir}" is not a plain absolute path`);
  const d = o.dir.replace(/\/+$/, '');
  const listen = [`listen ${o.port}`, `listen [::]:${o.port}`];
  const upstream = (app: { name: string; port: number }) =>
    `  upstream ${app.name.replace('-', '_')} { server 127.0.0.1:${app.port}; }`;
  const proxy = (app: { name: string }) => [
    `      proxy_pass http://${app.name.replace('-', '_')};`,
    '      proxy_set_header Host $host;',
    '      proxy_set_header X-Forwarded-For $remote_addr;',
  ];
  return [
    `# Written by metalbeacon lab for ${o.node}; run as nginx -p ${d} -c ${d}/nginx.conf -e ${d}/error.log`,
    'daemon off;',
    'master_process on;',
    'worker_processes 1;',
    // Debian has no group "nobody" (nginx's default); its unprivileged group is nogroup.
    'user nobody nogroup;',
    `pid ${d}/nginx.pid;`,
    `error_log ${d}/error.log notice;`,
    'events { worker_connections 512; }',
    'http {',
    `  access_log ${d}/access.log;`,
    `  client_body_temp_path ${d}/tmp/client-body;`,
    `  proxy_temp_path ${d}/tmp/proxy;`,
    `  fastcgi_temp_path ${d}/tmp/fastcgi;`,
    `  uwsgi_temp_path ${d}/tmp/uwsgi;`,
    `  scgi_temp_path ${d}/tmp/scgi;`,
    '  default_type text/plain;',
    // Every request its own connection, so each is a new flow the router hashes (ECMP).
    '  keepalive_timeout 0;',
    '  proxy_connect_timeout 1s;',
    '  proxy_read_timeout 5s;',
    upstream(APP_A),
    upstream(APP_B),
    '  server {',
    ...listen.map((l) => `    ${l} default_server;`),
    '    server_name _;',
    `    location ${APP_A.path} {`,
    ...proxy(APP_A),
    '    }',
    '    location / {',
    `      return 404 "nginx on ${o.node}: no route for $host$request_uri (try ${APP_A.path} or Host: ${APP_B.host})\\n";`,
    '    }',
    '  }',
    '  server {',
    ...listen.map((l) => `    ${l};`),
    `    server_name ${APP_B.host};`,
    '    location / {',
    ...proxy(APP_B),
    '    }',
    '  }',
    '}',
    '',
  ].join('\n');
}
