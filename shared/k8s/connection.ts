import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Where the API server is and how to authenticate to it: what a kubeconfig context or the
 * in-cluster service account boil down to. `headers()` is asked before every request so a
 * rotated service-account token (kubelet rewrites it about hourly) is picked up.
 */
export interface Connection {
  readonly server: URL;
  readonly tls: {
    readonly ca?: Buffer;
    readonly cert?: Buffer;
    readonly key?: Buffer;
    readonly servername?: string;
    readonly rejectUnauthorized: boolean;
  };
  headers(): Promise<Record<string, string>>;
  /**
   * Re-reads the credentials now (after a 401: the token file may hold a rotated token);
   * true when they changed. The client sends a refused request once more when `headers()`
   * then differ from the ones it was refused with.
   */
  refreshCredentials?(): boolean;
  /** Where the CA and the token came from, for error messages (file paths or 'kubeconfig'). */
  readonly sources?: { readonly ca?: string; readonly token?: string };
}

/** The parts of a kubeconfig file we read (field names as kubectl writes them). */
interface KubeconfigFile {
  'current-context'?: string;
  clusters?: { name?: string; cluster?: Record<string, unknown> }[];
  users?: { name?: string; user?: Record<string, unknown> }[];
  contexts?: { name?: string; context?: { cluster?: string; user?: string } }[];
}

/** User fields only client-node implements (plugins that run programs or talk OIDC). */
export const DELEGATED_AUTH_FIELDS = ['exec', 'auth-provider'] as const;

/** Reads a file as the kubeconfig names it: relative paths are relative to the kubeconfig. */
type ReadFile = (path: string) => Buffer;

function string(
  record: Record<string, unknown> | undefined,
  field: string,
  where: string,
): string | undefined {
  const value = record?.[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new Error(`${where}: field ${field} must be a string`);
  return value;
}

/** `x-data` (base64) or `x` (a file path), as kubeconfig allows for CAs, certificates and keys. */
function material(
  record: Record<string, unknown> | undefined,
  field: string,
  where: string,
  read: ReadFile,
): Buffer | undefined {
  const data = string(record, `${field}-data`, where);
  if (data !== undefined) return Buffer.from(data, 'base64');
  const path = string(record, field, where);
  return path === undefined ? undefined : read(path);
}

/**
 * The connection of the current context of a parsed kubeconfig. Throws an Error naming the
 * context, cluster or user and the field that is wrong. Users with `exec` or `auth-provider`
 * are refused here (`delegatedAuth` says whether that is the case) so the caller can hand
 * them to client-node, which runs those plugins.
 */
export function connectionFromKubeconfig(doc: unknown, read: ReadFile): Connection {
  if (typeof doc !== 'object' || doc === null) throw new Error('not a kubeconfig: expected a YAML mapping');
  const file = doc as KubeconfigFile;
  const contextName = file['current-context'];
  if (!contextName) throw new Error('no current-context set');
  const context = file.contexts?.find((c) => c.name === contextName)?.context;
  if (!context) throw new Error(`current-context ${contextName} is not among the contexts`);
  const cluster = file.clusters?.find((c) => c.name === context.cluster)?.cluster;
  if (!cluster) throw new Error(`context ${contextName}: cluster ${context.cluster ?? '(none)'} not found`);
  const clusterWhere = `cluster ${context.cluster}`;
  const server = string(cluster, 'server', clusterWhere);
  if (!server) throw new Error(`${clusterWhere}: no server`);
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new Error(`${clusterWhere}: server ${server} is not a URL`);
  }
  if (string(cluster, 'proxy-url', clusterWhere))
    throw new Error(`${clusterWhere}: proxy-url is not supported`);
  const user = (context.user ? file.users?.find((u) => u.name === context.user)?.user : undefined) ?? {};
  const userWhere = `user ${context.user ?? '(none)'}`;
  for (const field of DELEGATED_AUTH_FIELDS) {
    if (user[field] !== undefined) throw new Error(`${userWhere}: ${field} needs client-node`);
  }
  const token = string(user, 'token', userWhere);
  const tokenFile = string(user, 'tokenFile', userWhere);
  const username = string(user, 'username', userWhere);
  const password = string(user, 'password', userWhere);
  const basic =
    username !== undefined
      ? `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}`
      : undefined;
  return {
    server: url,
    tls: {
      ca: material(cluster, 'certificate-authority', clusterWhere, read),
      cert: material(user, 'client-certificate', userWhere, read),
      key: material(user, 'client-key', userWhere, read),
      servername: string(cluster, 'tls-server-name', clusterWhere),
      rejectUnauthorized: cluster['insecure-skip-tls-verify'] !== true,
    },
    headers: bearer(
      token !== undefined
        ? () => token
        : tokenFile !== undefined
          ? () => read(tokenFile).toString().trim()
          : undefined,
      basic,
    ),
    sources: {
      ca: `the certificate-authority of ${clusterWhere}`,
      token: tokenFile !== undefined ? tokenFile : `the token of ${userWhere}`,
    },
  };
}

/** Whether the current context's user needs an auth plugin (see DELEGATED_AUTH_FIELDS). */
export function delegatedAuth(doc: unknown): boolean {
  const file = doc as KubeconfigFile;
  const context = file?.contexts?.find((c) => c.name === file['current-context'])?.context;
  const user = file?.users?.find((u) => u.name === context?.user)?.user;
  return DELEGATED_AUTH_FIELDS.some((field) => user?.[field] !== undefined);
}

/** Where the kubelet mounts a Pod's ServiceAccount (token, ca.crt, namespace). */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/** Environment variable naming another mount directory (tests, a mount moved elsewhere). */
export const SERVICE_ACCOUNT_DIR_ENV = 'METALBEACON_SERVICE_ACCOUNT_DIR';
/** As client-go and client-node: a token file is re-read at most once a minute, and after a 401. */
const TOKEN_REREAD_MS = 60_000;

/** A ServiceAccount mount as read from its directory. */
export interface ServiceAccountMount {
  readonly dir: string;
  readonly token: string;
  readonly ca: Buffer;
  /** The Pod's namespace (the `namespace` file), when the mount has one. */
  readonly namespace: string | undefined;
}

/** Reads a mount; throws an Error naming the file that is missing or wrong. */
export function readServiceAccountMount(dir: string, read: ReadFile = readFileSync): ServiceAccountMount {
  const file = (name: string, optional = false): Buffer | undefined => {
    try {
      return read(join(dir, name));
    } catch (error) {
      if (optional && (error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new Error(`service account mount ${dir}: cannot read ${name}: ${(error as Error).message}`);
    }
  };
  const token = readToken(dir, file('token')!);
  const ca = file('ca.crt')!;
  if (!ca.includes('-----BEGIN CERTIFICATE-----'))
    throw new Error(`service account mount ${dir}: ca.crt holds no PEM certificate`);
  const namespace = file('namespace', true)?.toString().trim() || undefined;
  return { dir, token, ca, namespace };
}

function readToken(dir: string, bytes: Buffer): string {
  const token = bytes.toString().trim();
  if (!token) throw new Error(`service account mount ${dir}: token is empty`);
  if (/\s/.test(token)) throw new Error(`service account mount ${dir}: token holds white space inside`);
  return token;
}

/**
 * The in-cluster connection: the Service's address from the environment, the mounted token
 * and CA (in `dir`, else $METALBEACON_SERVICE_ACCOUNT_DIR, else the kubelet's path). The token
 * is re-read once a minute and when the server refuses it, so a rotated token is taken up
 * even when the old one was revoked at once.
 */
export function inClusterConnection(
  env: NodeJS.ProcessEnv,
  read: ReadFile = readFileSync,
  now: () => number = Date.now,
  dir = env[SERVICE_ACCOUNT_DIR_ENV] || SERVICE_ACCOUNT_DIR,
): Connection {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  if (!host) throw new Error('KUBERNETES_SERVICE_HOST is not set');
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535)
    throw new Error(`KUBERNETES_SERVICE_PORT ${port} is not a port number`);
  const mount = readServiceAccountMount(dir, read);
  const tokenPath = join(dir, 'token');
  let token = mount.token;
  let readAt = now();
  const reread = (): boolean => {
    readAt = now();
    let next: string;
    try {
      next = readToken(dir, read(tokenPath));
    } catch {
      // Mid-rotation or gone: keep the token we have; the next refusal or minute tries again.
      return false;
    }
    const changed = next !== token;
    token = next;
    return changed;
  };
  return {
    server: new URL(`https://${host.includes(':') ? `[${host}]` : host}:${port}`),
    tls: { ca: mount.ca, rejectUnauthorized: true },
    headers: bearer(() => {
      if (now() - readAt >= TOKEN_REREAD_MS) reread();
      return token;
    }),
    refreshCredentials: reread,
    sources: { ca: join(dir, 'ca.crt'), token: tokenPath },
  };
}

function bearer(token: (() => string) | undefined, basic?: string): () => Promise<Record<string, string>> {
  return async (): Promise<Record<string, string>> => {
    const value = token?.();
    if (value) return { authorization: `Bearer ${value}` };
    return basic ? { authorization: basic } : {};
  };
}
