import { CliError } from '../cli/errors.ts';
import type { KubeClient } from './client.ts';

/**
 * Fails fast, with one line naming the server, when the API server cannot be reached at
 * start-up; later outages are handled by the informers' retries instead.
 */
export async function ensureApiServerReachable(client: KubeClient, timeoutMs = 5_000): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const version = await Promise.race([client.get<{ gitVersion?: string }>('/version'), timeout]);
    return version.gitVersion ?? '';
  } catch (error) {
    throw new CliError(
      `cannot reach the Kubernetes API server at ${client.server}: ${describeNetworkError(error)}`,
      {
        hint: 'check that the server is running and that --kubeconfig / KUBECONFIG points at the right cluster',
        cause: error,
      },
    );
  } finally {
    clearTimeout(timer);
  }
}

function describeNetworkError(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  return error instanceof Error ? (error.message.split('\n')[0] ?? 'unknown error') : String(error);
}
