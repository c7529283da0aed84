import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Server as NetServer } from 'node:net';
import { join } from 'node:path';
import type { IpFamily } from '../shared/net/ip.ts';
import type { AuditEntry } from './authorization.ts';
import { builtinTypes } from './builtins.ts';
import { makeServingCertificates, type ServingCertificates } from './certificates.ts';
import type { Context } from './context.ts';
import { AllocationIndex, defaultServiceNetwork } from './defaulting.ts';
import { badRequest } from './errors.ts';
import { handle } from './http.ts';
import { type HttpsFront, type HttpsRefusals, httpsFront } from './https-front.ts';
import { applyObjects, installHooks, OwnerIndex } from './lifecycle.ts';
import { readManifests } from './manifests.ts';
import { serviceAccountUser } from './rbac.ts';
import { TypeRegistry } from './registry.ts';
import type { RequestRecord } from './request-record.ts';
import { replaceFile, writeServiceAccountMount } from './service-account-mount.ts';
import { ObjectStore } from './store.ts';
import { TokenTable } from './tokens.ts';
import type { KubeObject } from './types.ts';

/** Options of the embedded API server. */
export interface ApiServerOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Serve dual-stack Services (IPv4 primary, IPv6 secondary); default single-stack IPv4. */
  dualStack?: boolean;
  /** Cluster IP families, primary first (overrides `dualStack`): e.g. ['IPv6'] or ['IPv6', 'IPv4']. */
  families?: IpFamily[];
  /** Manifest files or directories applied at start (CRDs first), e.g. ['config/crd']. */
  apply?: string[];
  /** How many changes the watch history keeps before older watches get 410 Gone. */
  historyLimit?: number;
  /** Interval of BOOKMARK events for watches that allow them (the real server: about a minute). */
  bookmarkIntervalMs?: number;
  /**
   * How long a deleted namespace stays Terminating before its contents are deleted (the real
   * namespace controller takes seconds); default 500 ms.
   */
  namespaceDeletionDelayMs?: number;
  /** Called for each request (method, path, status) — the CLI logs through it. */
  onRequest?: (method: string, path: string, status: number) => void;
  /**
   * Called with each RBAC decision for a request made with a token of
   * `serviceAccountKubeconfig` (tests derive from it what a program needs).
   */
  onAudit?: (entry: AuditEntry) => void;
  /** Called for each finished request with its record (tests read who wrote what, and when). */
  onRequestRecord?: (record: RequestRecord) => void;
  /**
   * Also serve HTTPS, as a real cluster does, on `host` (default: the plain listener's) and
   * `port` (0: a free one), with a CA made at start and a certificate for `host` plus
   * `altNames`. There every request needs a bearer token this server issued
   * (`writeServiceAccountMount`), and RBAC decides for its ServiceAccount.
   */
  https?: {
    host?: string;
    port?: number;
    altNames?: readonly string[];
    /** A connection that has not sent its opening in this time is closed (default 120 s). */
    handshakeTimeoutMs?: number;
  };
}

/** The HTTPS listener of a server started with `https`. */
export interface HttpsListener {
  url: string;
  host: string;
  port: number;
  /** The server's CA (PEM): the `ca.crt` of the ServiceAccount mounts. */
  caPem: string;
  /** Connections refused before a request reached the API, by why (live counts). */
  refusals: Readonly<HttpsRefusals>;
}

/** A running server and the fault hooks tests use. */
export interface ApiServerHandle {
  url: string;
  host: string;
  port: number;
  /** A kubeconfig for this server, as JSON (plain HTTP on loopback, no credentials). */
  kubeconfigText: string;
  writeKubeconfig(file: string): void;
  /**
   * A kubeconfig (JSON) whose token authenticates as the ServiceAccount: its requests are
   * allowed only as far as the stored Roles, ClusterRoles and bindings allow (RBAC enforced).
   */
  serviceAccountKubeconfig(namespace: string, name: string): string;
  /** Creates or updates objects from parsed manifests (CRDs first), as `kubectl apply` would. */
  applyObjects(objects: KubeObject[]): KubeObject[];
  /** Deletes one object synchronously (fault tests change state between two client requests). */
  deleteObject(apiVersion: string, kind: string, namespace: string | undefined, name: string): void;
  /** Ends every open watch stream; clients re-watch from their last resourceVersion. */
  cutWatches(): void;
  /** Drops the watch history so every resumed watch gets 410 Gone and must relist. */
  compactHistory(): void;
  /** The current global resourceVersion. */
  resourceVersion(): number;
  /**
   * Stops listening (dropping every connection and watch) for `downMs`, then serves the same
   * data again. Like a real kube-apiserver, whose watch cache starts empty after a restart,
   * the watch history is lost unless `keepWatchHistory`: resumed watches then get 410 Gone.
   */
  restart(options?: number | { downMs?: number; keepWatchHistory?: boolean }): Promise<void>;
  /** The HTTPS listener (present when started with `https`). */
  https: HttpsListener | undefined;
  /**
   * Writes a ServiceAccount's in-cluster mount (token, ca.crt, namespace) into `dir` with a
   * new token for `namespace`/`name`; returns the token. Needs `https`.
   */
  writeServiceAccountMount(dir: string, namespace: string, name: string): string;
  /**
   * Writes a new token into the mount at `dir` and revokes the old one at once (a forced
   * rotation: a client still sending the old token gets 401). Returns the new token.
   */
  rotateServiceAccountToken(dir: string): string;
  /** Refuses `token` from now on. */
  revokeToken(token: string): void;
  stop(): Promise<void>;
}

/** Starts the embedded Kubernetes API server. */
export async function startApiServer(options: ApiServerOptions = {}): Promise<ApiServerHandle> {
  const host = options.host ?? '127.0.0.1';
  const registry = new TypeRegistry(builtinTypes());
  const store = new ObjectStore({ historyLimit: options.historyLimit ?? 1000 });
  const ctx: Context = {
    registry,
    store,
    network: defaultServiceNetwork(options.families ?? (options.dualStack ? ['IPv4', 'IPv6'] : ['IPv4'])),
    allocations: new AllocationIndex(),
    owners: new OwnerIndex(),
    bookmarkIntervalMs: options.bookmarkIntervalMs ?? 60_000,
    namespaceDeletionDelayMs: options.namespaceDeletionDelayMs ?? 500,
    serverAddress: () => `${host}:${port}`,
    tokens: new TokenTable(() => randomBytes(24).toString('base64url')),
    onAudit: options.onAudit,
  };
  installHooks(ctx);
  const nsType = registry.lookup('', 'v1', 'namespaces')!;
  for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
    store.create(nsType, undefined, {
      metadata: { name },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
  }
  if (options.apply) applyObjects(ctx, readManifests(options.apply));

  const serve = (requireToken: boolean) => (req: IncomingMessage, res: ServerResponse) =>
    handle(ctx, req, res, options, requireToken);
  let server: Server = createServer(serve(false));
  let port = await listen(server, host, options.port ?? 0);
  const url = `http://${hostPort(host, port)}`;
  const kubeconfigText = kubeconfigFor(url);

  const httpsHost = options.https?.host ?? host;
  let certificates: ServingCertificates | undefined;
  let secure: HttpsFront | undefined;
  let https: HttpsListener | undefined;
  const refusals: HttpsRefusals = { plainHttp: 0, notTls: 0, handshake: 0, silent: 0, badRequest: 0 };
  const startHttps = async (httpsPort: number): Promise<number> => {
    certificates ??= makeServingCertificates([httpsHost, ...(options.https?.altNames ?? [])]);
    const { certPem: cert, keyPem: key } = certificates;
    const handshakeTimeout = options.https?.handshakeTimeoutMs;
    secure = httpsFront(createHttpsServer({ cert, key }, serve(true)), refusals, handshakeTimeout);
    return listen(secure.listener, httpsHost, httpsPort);
  };
  if (options.https) {
    const httpsPort = await startHttps(options.https.port ?? 0);
    https = {
      url: `https://${hostPort(httpsHost, httpsPort)}`,
      host: httpsHost,
      port: httpsPort,
      caPem: certificates!.caPem,
      refusals,
    };
  }
  /** The token each mount directory holds now. */
  const mounts = new Map<string, string>();
  const needHttps = (): HttpsListener => {
    if (!https)
      throw new Error('ServiceAccount mounts need the HTTPS listener: start the server with `https`');
    return https;
  };

  const handle_: ApiServerHandle = {
    url,
    host,
    port,
    kubeconfigText,
    https,
    writeKubeconfig: (file) => writeFileSync(file, kubeconfigText, { mode: 0o600 }),
    serviceAccountKubeconfig(namespace, name) {
      const token = ctx.tokens.issue(serviceAccountUser(namespace, name));
      return kubeconfigFor(url, { token });
    },
    writeServiceAccountMount(dir, namespace, name) {
      const { caPem } = needHttps();
      const token = ctx.tokens.issue(serviceAccountUser(namespace, name));
      writeServiceAccountMount(dir, { token, caPem, namespace });
      mounts.set(dir, token);
      return token;
    },
    rotateServiceAccountToken(dir) {
      const old = mounts.get(dir);
      if (old === undefined) throw new Error(`no ServiceAccount mount was written to ${dir}`);
      const token = ctx.tokens.rotate(old);
      replaceFile(join(dir, 'token'), token);
      mounts.set(dir, token);
      return token;
    },
    revokeToken: (token) => void ctx.tokens.revoke(token),
    applyObjects: (objects) => applyObjects(ctx, objects),
    deleteObject(apiVersion, kind, namespace, name) {
      const t = registry.byKind(apiVersion, kind);
      if (!t) throw badRequest(`no matches for kind "${kind}" in version "${apiVersion}"`);
      store.delete(t, t.namespaced ? namespace : undefined, name);
    },
    cutWatches: () => store.hub.cutAll(),
    compactHistory: () => store.hub.compact(store.resourceVersion),
    resourceVersion: () => store.resourceVersion,
    async restart(how = {}) {
      // A bare number is the down time (the first form of this hook; tests use both).
      const { downMs = 0, keepWatchHistory = false } = typeof how === 'number' ? { downMs: how } : how;
      store.hub.cutAll();
      await close(server);
      await secure?.close();
      if (!keepWatchHistory) store.hub.compact(store.resourceVersion);
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      server = createServer(serve(false));
      port = await listen(server, host, port);
      if (https) await startHttps(https.port);
    },
    async stop() {
      await close(server);
      await secure?.close();
    },
  };
  return handle_;
}

function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function listen(server: Server | NetServer, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * The kubeconfig as JSON, which kubectl and client-node read like YAML: our own programs then
 * parse it without loading the YAML parser, as in-cluster (see shared/k8s/kubeconfig.ts).
 */
function kubeconfigFor(url: string, user: { token?: string } = {}): string {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    // Plain HTTP on loopback: @kubernetes/client-node refuses http:// unless TLS checks are
    // off, and kubectl ignores the flag for http.
    clusters: [{ name: 'metalbeacon', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'metalbeacon', user }],
    contexts: [
      { name: 'metalbeacon', context: { cluster: 'metalbeacon', user: 'metalbeacon', namespace: 'default' } },
    ],
    'current-context': 'metalbeacon',
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}
