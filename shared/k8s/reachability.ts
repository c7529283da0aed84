import type { KubeClient } from './client.ts';

/** The API server did not answer at start-up; `server` is its URL. */
export class ApiUnreachableError extends Error {
  readonly code = 'ERR_API_UNREACHABLE';
  readonly server: string;
  constructor(server: string, cause: unknown) {
    super(`cannot reach the Kubernetes API server at ${server}: ${describeNetworkError(cause)}`, { cause });
    this.name = 'ApiUnreachableError';
    this.server = server;
  }
}

/**
 * Fails fast, with one line naming the server, when the API server cannot be reached at
 * start-up; later outages are handled by the informers' retries instead.
 */
export async function ensureApiServerReachable(client: KubeClient, timeoutMs = 5_000): Promise<string> {
  try {
    const version = await client.get<{ gitVersion?: string }>('/version', undefined, { timeoutMs });
    return version.gitVersion ?? '';
  } catch (error) {
    throw new ApiUnreachableError(client.server, error);
  }
}

function describeNetworkError(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  return error instanceof Error ? (error.message.split('\n')[0] ?? 'unknown error') : String(error);
}
