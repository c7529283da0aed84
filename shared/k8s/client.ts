import type { Agent, IncomingMessage } from 'node:http';
import https from 'node:https';
import { http } from '../runtime/http.ts';
import type { Connection } from './connection.ts';

/**
 * A small JSON client for the Kubernetes REST API: one keep-alive agent per process, plain
 * objects in and out, nothing generated. client-node's typed APIs cost much memory
 * (its generated models and its own undici) and deserialise every object into class instances;
 * MetalBeacon reads a handful of fields, so it speaks the REST API directly (docs/adr/0004-kubernetes-client.md).
 */

/** A non-2xx answer: `code` is the HTTP status, `body` the server's Status object as text. */
export class ApiError extends Error {
  readonly code: number;
  readonly body: string;
  /** The server's own words: the Status object's message, else the start of the body. */
  readonly serverMessage: string;
  constructor(method: string, path: string, code: number, body: string, detail?: string) {
    const serverMessage = statusMessage(body);
    super(`${method} ${path.split('?')[0]}: HTTP ${code}: ${serverMessage}${detail ? ` (${detail})` : ''}`);
    this.name = 'ApiError';
    this.code = code;
    this.body = body;
    this.serverMessage = serverMessage;
  }
}

/**
 * The TLS handshake failed because the server's certificate is not one the client trusts:
 * another CA signed it, it is expired, or it is not for the host connected to. `code` is
 * OpenSSL's (or Node's) code for it.
 */
export class TlsTrustError extends Error {
  readonly code: string;
  constructor(message: string, code: string, cause: unknown) {
    super(message, { cause });
    this.name = 'TlsTrustError';
    this.code = code;
  }
}

/** Handshake failures that mean "this certificate is not trusted", with what to say about each. */
const UNTRUSTED: Record<string, string> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'is not signed by',
  UNABLE_TO_GET_ISSUER_CERT: 'is not signed by',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'is not signed by',
  CERT_SIGNATURE_FAILURE: 'is not signed by',
  SELF_SIGNED_CERT_IN_CHAIN: 'is not signed by',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'is self-signed, not signed by',
  CERT_HAS_EXPIRED: 'has expired; the trust anchor is',
  CERT_NOT_YET_VALID: 'is not valid yet; the trust anchor is',
  ERR_TLS_CERT_ALTNAME_INVALID: 'is not for this host name or address (CA:',
};

/** The HTTP status of an ApiError; undefined for anything else (a network error, a bug). */
export function apiStatus(error: unknown): number | undefined {
  return error instanceof ApiError ? error.code : undefined;
}

/** 404: the object (or its whole type: a CRD not installed) does not exist. */
export const isNotFound = (error: unknown): boolean => apiStatus(error) === 404;
/** 409: a conditional write lost to a newer version, or a create found the name taken. */
export const isConflict = (error: unknown): boolean => apiStatus(error) === 409;
/** 410: the resourceVersion asked for is older than the server's history. */
export const isGone = (error: unknown): boolean => apiStatus(error) === 410;
/** 401 or 403: not authenticated, or RBAC refuses. */
export const isRefused = (error: unknown): boolean => apiStatus(error) === 401 || apiStatus(error) === 403;

function statusMessage(body: string): string {
  try {
    const status = JSON.parse(body) as { message?: unknown };
    if (typeof status.message === 'string') return status.message;
  } catch {
    // not a Status object
  }
  return body.slice(0, 200) || '(empty body)';
}

export type PatchType = 'merge' | 'strategic' | 'json';
const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
};

export type Query = Readonly<Record<string, string | number | boolean | undefined>>;

export interface WatchEvent<T> {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  readonly object: T;
}

export interface KubeList<T> {
  /** `continue`: set when the server cut the list at `limit`; pass it back for the next page. */
  readonly metadata?: { readonly resourceVersion?: string; readonly continue?: string };
  readonly items: T[];
}

/** Requests that are not watches give up after this long (a hung server must not wedge a loop). */
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * Limits of one call. `timeoutMs` bounds it as a whole (queueing for a connection, the answer's
 * body included; default 30 s; 0 or less: not sent at all); `signal` abandons it when aborted.
 * Either ends the HTTP request, so a hung call never outlives the caller's own deadline.
 */
export interface CallOptions {
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

function withQuery(path: string, query: Query | undefined): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const text = params.toString();
  return text ? `${path}${path.includes('?') ? '&' : '?'}${text}` : path;
}

export class KubeClient {
  readonly connection: Connection;
  readonly #agent: Agent;
  readonly #request: typeof http.request;

  constructor(connection: Connection) {
    this.connection = connection;
    const secure = connection.server.protocol === 'https:';
    const { ca, cert, key, servername, rejectUnauthorized } = connection.tls;
    // One agent: connections are reused by every informer and writer of the process.
    this.#agent = secure
      ? new https.Agent({ keepAlive: true, maxSockets: 64, ca, cert, key, servername, rejectUnauthorized })
      : new http.Agent({ keepAlive: true, maxSockets: 64 });
    this.#request = secure ? https.request : http.request;
  }

  /** The server URL, for messages. */
  get server(): string {
    return this.connection.server.href.replace(/\/$/, '');
  }

  get<T>(path: string, query?: Query, options?: CallOptions): Promise<T> {
    return this.#json<T>('GET', withQuery(path, query), undefined, undefined, options);
  }

  list<T>(path: string, query?: Query): Promise<KubeList<T>> {
    return this.#json<KubeList<T>>('GET', withQuery(path, query));
  }

  create<T>(path: string, body: unknown, options?: CallOptions): Promise<T> {
    return this.#json<T>('POST', path, body, undefined, options);
  }

  replace<T>(path: string, body: unknown, options?: CallOptions): Promise<T> {
    return this.#json<T>('PUT', path, body, undefined, options);
  }

  patch<T>(path: string, body: unknown, type: PatchType = 'merge', options?: CallOptions): Promise<T> {
    return this.#json<T>('PATCH', path, body, PATCH_CONTENT_TYPES[type], options);
  }

  async delete(path: string, options?: CallOptions): Promise<void> {
    await this.#json<unknown>('DELETE', path, undefined, undefined, options);
  }

  /** Ends the kept-alive connections (at shutdown). */
  close(): void {
    this.#agent.destroy();
  }

  /**
   * Sends a request. `deadline` (ms) aborts it as a whole, also while it waits for a socket and
   * while its answer's body arrives; `idleMs` ends a connection that stays silent that long
   * (watches, whose answers go on); `signal` ends it when aborted.
   */
  async #open(
    method: string,
    path: string,
    payload: string | undefined,
    contentType: string | undefined,
    limits: { deadline?: number; idleMs?: number; signal?: AbortSignal | undefined },
  ): Promise<IncomingMessage> {
    const { deadline, signal } = limits;
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...(await this.connection.headers()),
    };
    const refused = deadline !== undefined && deadline <= 0 ? 'no time left' : abandonedWhy(signal);
    if (refused !== undefined) throw new Error(`${method} ${path.split('?')[0]}: not sent: ${refused}`);
    if (payload !== undefined) {
      headers['content-type'] = contentType ?? 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    const url = new URL(path, this.connection.server);
    const res = await this.#send(method, url, headers, payload, limits);
    if (res.statusCode !== 401 || !this.connection.refreshCredentials) return res;
    // The token may have been rotated and the old one revoked: if the one in hand now (this
    // request's 401 or a concurrent one's made it re-read the file) is another, send once more.
    this.connection.refreshCredentials();
    const fresh = await this.connection.headers();
    if (fresh.authorization === headers.authorization) return res;
    res.resume();
    return this.#send(method, url, { ...headers, ...fresh }, payload, limits);
  }

  #send(
    method: string,
    url: URL,
    headers: Record<string, string>,
    payload: string | undefined,
    limits: { deadline?: number; idleMs?: number; signal?: AbortSignal | undefined },
  ): Promise<IncomingMessage> {
    const { deadline, idleMs, signal } = limits;
    return new Promise((resolve, reject) => {
      let answer: IncomingMessage | undefined;
      const req = this.#request(url, { method, headers, agent: this.#agent }, (res) => {
        answer = res;
        resolve(res);
      });
      const fail = (what: string) => () => {
        const error = new Error(`${method} ${url.pathname}: ${what}`);
        // The answer too, so that a body that stops half-way ends with this message.
        answer?.destroy(error);
        req.destroy(error);
      };
      if (deadline !== undefined) {
        // Also runs while the request waits for a free socket, unlike a socket timeout.
        const timer = setTimeout(fail(`no answer in ${Math.round(deadline)} ms`), deadline);
        req.once('close', () => clearTimeout(timer));
      }
      if (signal) {
        const onAbort = (): void => fail(`abandoned: ${abandonedWhy(signal)}`)();
        signal.addEventListener('abort', onAbort, { once: true });
        req.once('close', () => signal.removeEventListener('abort', onAbort));
      }
      if (idleMs !== undefined) req.setTimeout(idleMs, fail(`silent for ${idleMs} ms`));
      req.once('error', (error) => reject(this.#explainNetworkError(error)));
      req.end(payload);
    });
  }

  /** A TLS trust failure as a TlsTrustError naming the server and where the CA came from. */
  #explainNetworkError(error: Error): Error {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    const what = UNTRUSTED[code];
    if (!what) return error;
    const ca =
      this.connection.sources?.ca ?? (this.connection.tls.ca ? 'the configured CA' : "the system's CAs");
    const close = what.endsWith('(CA:') ? ')' : '';
    return new TlsTrustError(
      `TLS: the certificate of the API server at ${this.server} ${what} ${ca}${close} [${code}]`,
      code,
      error,
    );
  }

  /** What a refusal means for the credentials this client sends. */
  #explainStatus(code: number): string | undefined {
    if (code !== 401) return undefined;
    const token = this.connection.sources?.token;
    return token
      ? `the bearer token from ${token} is wrong, expired or revoked`
      : 'no credentials, or credentials this server does not accept';
  }

  async #json<T>(
    method: string,
    path: string,
    body?: unknown,
    contentType?: string,
    options: CallOptions = {},
  ): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const deadline = options.timeoutMs ?? REQUEST_TIMEOUT_MS;
    const res = await this.#open(method, path, payload, contentType, { deadline, signal: options.signal });
    const text = await readAll(res);
    const code = res.statusCode ?? 0;
    if (code < 200 || code >= 300) throw new ApiError(method, path, code, text, this.#explainStatus(code));
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /**
   * Streams a watch: calls `onEvent` per event line; resolves when the server ends the watch,
   * rejects with an ApiError for a refused watch or with the network error. A watch silent for
   * longer than its timeoutSeconds plus a margin is treated as dead (a half-open connection).
   */
  async watch<T>(
    path: string,
    query: Query & { timeoutSeconds: number },
    onEvent: (event: WatchEvent<T>) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    const full = withQuery(path, { ...query, watch: 1 });
    const idleMs = (query.timeoutSeconds + 30) * 1000;
    const res = await this.#open('GET', full, undefined, undefined, { idleMs, signal });
    const code = res.statusCode ?? 0;
    if (code !== 200) throw new ApiError('GET', full, code, await readAll(res), this.#explainStatus(code));
    res.setEncoding('utf8');
    let rest = '';
    await new Promise<void>((resolve, reject) => {
      res.on('data', (chunk: string) => {
        rest += chunk;
        let newline = rest.indexOf('\n');
        while (newline >= 0) {
          const line = rest.slice(0, newline);
          rest = rest.slice(newline + 1);
          if (line.trim()) {
            try {
              onEvent(JSON.parse(line) as WatchEvent<T>);
            } catch (error) {
              res.destroy(error as Error);
              return;
            }
          }
          newline = rest.indexOf('\n');
        }
      });
      res.once('end', resolve);
      res.once('error', reject);
      res.once('close', () => (res.complete ? resolve() : reject(new Error(`watch ${path} cut`))));
    });
  }
}

/** Why a signal was aborted, as text; undefined while it is not. */
function abandonedWhy(signal: AbortSignal | undefined): string | undefined {
  if (!signal?.aborted) return undefined;
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason.message : String(reason ?? 'aborted');
}

function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.once('error', reject);
  });
}
