import { ApiError, type KubeClient, TlsTrustError } from './client.ts';

/** The API server did not answer at start-up; `server` is its URL. */
export class ApiUnreachableError extends Error {
  readonly code = 'ERR_API_UNREACHABLE';
  readonly server: string;
  /** Not reached; reached but its certificate not trusted; reached but the credentials refused. */
  readonly reason: 'unreachable' | 'untrusted' | 'refused';
  constructor(server: string, cause: unknown) {
    const reason =
      cause instanceof TlsTrustError
        ? 'untrusted'
        : cause instanceof ApiError && cause.code === 401
          ? 'refused'
          : 'unreachable';
    const what = { unreachable: 'cannot reach', untrusted: 'cannot trust', refused: 'refused by' }[reason];
    super(`${what} the Kubernetes API server at ${server}: ${describeNetworkError(cause)}`, { cause });
    this.name = 'ApiUnreachableError';
    this.server = server;
    this.reason = reason;
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
  // These already say what is wrong (which CA, which token); a bare code would hide it.
  if (error instanceof TlsTrustError || error instanceof ApiError) return error.message;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  return error instanceof Error ? (error.message.split('\n')[0] ?? 'unknown error') : String(error);
}
