import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { KubeClient } from './client.ts';
import {
  type Connection,
  connectionFromKubeconfig,
  delegatedAuth,
  inClusterConnection,
} from './connection.ts';

/** No usable kubeconfig: `missing` when the file does not exist, else it could not be read or parsed. */
export class KubeconfigError extends Error {
  readonly code = 'ERR_KUBECONFIG';
  /** The file, or undefined for the in-cluster service account. */
  readonly path: string | undefined;
  readonly missing: boolean;
  constructor(message: string, path: string | undefined, missing: boolean, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'KubeconfigError';
    this.path = path;
    this.missing = missing;
  }
}

/**
 * Loads the kubeconfig the way kubectl does: an explicit path first, then $KUBECONFIG,
 * then the in-cluster service account, then ~/.kube/config.
 */
export async function loadKubeClient(
  explicitPath: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<KubeClient> {
  const home = env.HOME ? join(env.HOME, '.kube', 'config') : undefined;
  const path =
    explicitPath ??
    env.KUBECONFIG?.split(':').find((p) => p.length > 0) ??
    (env.KUBERNETES_SERVICE_HOST ? undefined : home);
  try {
    if (path === undefined) return new KubeClient(inClusterConnection(env));
    if (!existsSync(path)) throw new KubeconfigError(`kubeconfig ${path} does not exist`, path, true);
    return new KubeClient(await connectionFromFile(path));
  } catch (error) {
    if (error instanceof KubeconfigError) throw error;
    throw new KubeconfigError(
      `cannot read kubeconfig${path ? ` ${path}` : ' (in-cluster service account)'}: ${(error as Error).message}`,
      path,
      false,
      error,
    );
  }
}

async function connectionFromFile(path: string): Promise<Connection> {
  const doc = await parseKubeconfig(readFileSync(path, 'utf8'));
  if (delegatedAuth(doc)) return delegatedConnection(path, doc);
  return connectionFromKubeconfig(doc, relativeTo(dirname(path)));
}

/**
 * Kubeconfig text as an object. JSON (what `kubectl config view -o json` writes) is read
 * without the YAML parser, which is loaded only for YAML: heap a long-running speaker or
 * controller need not carry (in-cluster they read no kubeconfig at all).
 */
async function parseKubeconfig(text: string): Promise<unknown> {
  if (text.trimStart().startsWith('{')) {
    try {
      return JSON.parse(text);
    } catch {
      // YAML flow mappings also start with {; the YAML parser decides.
    }
  }
  const { parseKubeconfigYaml } = await import('./kubeconfig-yaml.ts');
  return parseKubeconfigYaml(text);
}

/** A client from an already parsed kubeconfig (tests hand over the embedded API server's). */
export function kubeClientFromConfig(doc: unknown, baseDir = process.cwd()): KubeClient {
  return new KubeClient(connectionFromKubeconfig(doc, relativeTo(baseDir)));
}

function relativeTo(base: string): (file: string) => Buffer {
  return (file) => readFileSync(isAbsolute(file) ? file : join(base, file));
}

/**
 * A user with an exec or auth-provider plugin: client-node runs the plugin and caches its
 * credentials; it is loaded only then, so the usual in-cluster speaker never pays for it.
 */
function delegatedConnection(path: string, doc: unknown): Connection {
  // The cluster part (server, CA, TLS) is read here; only the credentials come from the plugin.
  const withoutUser = structuredClone(doc) as { users?: { user?: Record<string, unknown> }[] };
  for (const entry of withoutUser.users ?? []) entry.user = {};
  const base = connectionFromKubeconfig(withoutUser, relativeTo(dirname(path)));
  let loaded: Promise<{ applyToHTTPSOptions(o: Record<string, unknown>): Promise<void> }> | undefined;
  return {
    ...base,
    async headers() {
      loaded ??= import('@kubernetes/client-node').then(({ KubeConfig }) => {
        const kc = new KubeConfig();
        kc.loadFromFile(path);
        return kc;
      });
      const options: { headers: Record<string, string>; cert?: unknown } = { headers: {} };
      await (await loaded).applyToHTTPSOptions(options);
      if (options.cert)
        throw new Error(`kubeconfig ${path}: client certificates from an auth plugin are not supported`);
      return options.headers;
    },
  };
}
