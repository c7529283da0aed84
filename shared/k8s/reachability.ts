import { type KubeConfig, VersionApi } from '@kubernetes/client-node';
import { CliError } from '../cli/errors.ts';

/**
 * Fails fast, with one line naming the server, when the API server cannot be reached at
 * start-up; later outages are handled by the informers' retries instead.
 */
export async function ensureApiServerReachable(kc: KubeConfig, timeoutMs = 5_000): Promise<string> {
  const server = kc.getCurrentCluster()?.server ?? '(no server)';
  const api = kc.makeApiClient(VersionApi);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const version = await Promise.race([api.getCode(), timeout]);
    return version.gitVersion;
  } catch (error) {
    const reason = describeNetworkError(error);
    throw new CliError(`cannot reach the Kubernetes API server at ${server}: ${reason}`, {
      hint: 'check that the server is running and that --kubeconfig / KUBECONFIG points at the right cluster',
      cause: error,
    });
  } finally {
    clearTimeout(timer);
  }
}

function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string } }).cause;
  const code = (error as { code?: string }).code ?? cause?.code;
  if (code) return code;
  return error instanceof Error ? (error.message.split('\n')[0] ?? 'unknown error') : String(error);
}
