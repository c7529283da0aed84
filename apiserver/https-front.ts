import type { Server as TlsHttpServer } from 'node:https';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { classifyOpening, OPENING_BYTES } from './opening.ts';

/** Why the HTTPS listener refused a connection before any request reached the API. */
export interface HttpsRefusals {
  /** Plain HTTP sent to the HTTPS port (answered 400, as kube-apiserver does). */
  plainHttp: number;
  /** Neither TLS nor HTTP (answered with a TLS alert). */
  notTls: number;
  /** A TLS handshake that failed (bad record, no common cipher, client refused our certificate). */
  handshake: number;
  /** Sent nothing within the handshake timeout. */
  silent: number;
  /** Over TLS, a request HTTP cannot parse or too large a header (answered 400 or 431). */
  badRequest: number;
}

/** The answers to HTTP errors Node reports before a request exists, by its error code. */
const BAD_REQUESTS: Record<string, [string, string]> = {
  HPE_HEADER_OVERFLOW: ['431 Request Header Fields Too Large', 'the request header is too large'],
  ERR_HTTP_REQUEST_TIMEOUT: ['408 Request Timeout', 'the request did not arrive in time'],
  ERR_HTTP_HEADERS_TIMEOUT: ['408 Request Timeout', 'the request header did not arrive in time'],
};

/** What kube-apiserver (Go's net/http) answers to plain HTTP on its TLS port. */
const PLAIN_HTTP_ANSWER =
  'HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n' +
  'Client sent an HTTP request to an HTTPS server.\n';
/** A fatal TLS alert record, unexpected_message (RFC 8446 section 6): "this is not TLS". */
const NOT_TLS_ALERT = Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x0a]);

/**
 * A TCP listener in front of the HTTPS server: it looks at each connection's first bytes and
 * hands a TLS handshake to `secure`, while a plain HTTP request gets a 400 that says so and
 * anything else a TLS alert (OpenSSL alone closes both without a word). Every refusal is
 * counted in `refusals`; a refused connection never reaches the API.
 */
export function httpsFront(
  secure: TlsHttpServer,
  refusals: HttpsRefusals,
  handshakeTimeoutMs = 120_000,
): HttpsFront {
  secure.on('tlsClientError', (_error, socket) => {
    refusals.handshake++;
    socket.destroy();
  });
  const answered = new WeakSet<Socket>();
  // Node's own answer destroys the socket at once: a client still sending (an oversized
  // header) then gets a reset instead of the answer. This one closes after it is read.
  secure.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    // Input that goes on after the answer fails to parse again: it was answered already.
    if (answered.has(socket)) return;
    // A client that went away (a reset, a closed keep-alive connection) is no bad request.
    if (!socket.writable || error.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    answered.add(socket);
    refusals.badRequest++;
    const [status, why] = BAD_REQUESTS[error.code ?? ''] ?? [
      '400 Bad Request',
      `malformed HTTP request (${error.code ?? error.message})`,
    ];
    refuse(
      socket,
      `HTTP/1.1 ${status}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n${why}\n`,
    );
  });
  const open = new Set<Socket>();
  const listener = createNetServer((socket: Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    let opening = Buffer.alloc(0);
    const timer = setTimeout(() => {
      refusals.silent++;
      socket.destroy();
    }, handshakeTimeoutMs);
    const done = () => {
      clearTimeout(timer);
      socket.off('data', onData);
    };
    socket.once('close', () => clearTimeout(timer));
    socket.on('error', () => socket.destroy());
    const onData = (chunk: Buffer) => {
      opening = Buffer.concat([opening, chunk]);
      const kind = classifyOpening(opening.subarray(0, OPENING_BYTES));
      if (kind === 'undecided') return;
      done();
      if (kind === 'tls') {
        socket.pause();
        socket.unshift(opening);
        secure.emit('connection', socket);
        return;
      }
      if (kind === 'http') refusals.plainHttp++;
      else refusals.notTls++;
      refuse(socket, kind === 'http' ? PLAIN_HTTP_ANSWER : NOT_TLS_ALERT);
    };
    socket.on('data', onData);
  });
  return {
    listener,
    close: () =>
      new Promise((resolve) => {
        listener.close(() => resolve());
        for (const socket of open) socket.destroy();
      }),
  };
}

/** The listening side of the HTTPS server. */
export interface HttpsFront {
  readonly listener: NetServer;
  /** Stops listening and ends every connection (also those handed to the HTTPS server). */
  close(): Promise<void>;
}

/** Answers once and closes; a client that neither reads nor closes is cut after a grace. */
function refuse(socket: Socket, answer: string | Buffer): void {
  socket.end(answer);
  // Whatever else comes is read and dropped, so that unread input does not reset the connection.
  socket.resume();
  setTimeout(() => socket.destroy(), REFUSAL_GRACE_MS).unref();
}

/** Long enough for the answer to reach a client that reads it. */
const REFUSAL_GRACE_MS = 5_000;
