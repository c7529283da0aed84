import { CliError } from '../cli/errors.ts';
import type { KubeClient } from './client.ts';

/**
 * Fails fast, with one line naming the server, when the API server cannot be reached at
 * start-up; later outages are handled by the informers' retries instead.
 */
export async function ensureApiServerReachable(client: KubeClient, timeoutMs = 5_000): Promise<string> {
  try {
    const version = await client.get<{ gitVersion?: string }>('/version', undefined, timeoutMs);
    return version.gitVersion ?? '';
  } catch (error) {
    throw new CliError(
      `cannot reach the Kubernetes API server at ${client.server}: ${describeNetworkError(error)}`,
      {
        hint: 'check that the server is running and that --kubeconfig / KUBECONFIG points at the right cluster',
        cause: error,
      },
    );
  }
}

function describeNetworkError(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  return error instanceof Error ? (error.message.split('\n')[0] ?? 'unknown error') : String(error);
}
