/**
 * `HOST:PORT` as the programs' `--metrics-listen` (and the like) take it: `127.0.0.1:7472`,
 * `node.example:7472`, `[2001:db8::1]:7472`, or `:7472` for every address of both families
 * (as Go's listeners read it). One parser for every program, so they accept the same text.
 * Brackets may also hold an IPv4 address (`[192.0.2.1]:7472`, as Go accepts): the manifests
 * write `[$(HOST_IP)]:7473` with the node's address from the downward API, which is either.
 */
export interface HostPort {
  /** undefined: every address (Node listens on `::`, or `0.0.0.0` without IPv6). */
  readonly host: string | undefined;
  readonly port: number;
}

/** Text that is not `HOST:PORT`; `text` is what was given. */
export class HostPortError extends Error {
  readonly code = 'ERR_HOST_PORT';
  readonly text: string;
  constructor(text: string, why?: string) {
    super(`"${text}" is not HOST:PORT${why ? `: ${why}` : ''}`);
    this.name = 'HostPortError';
    this.text = text;
  }
}

const MAX_PORT = 65535;
/** A host name or IPv4 address: no colon (an IPv6 address needs brackets). */
const PLAIN_HOST = /^[A-Za-z0-9._-]*$/;
/** An IPv6 literal between brackets, with an optional zone (`fe80::1%eth0`). */
const BRACKETED_IPV6 = /^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(%[A-Za-z0-9._-]+)?$/;
/** A dotted-quad IPv4 literal between brackets. */
const BRACKETED_IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** Parses `HOST:PORT` or `[IPv6]:PORT`; throws a HostPortError naming the text and what is wrong. */
export function parseHostPort(text: string): HostPort {
  const colon = text.lastIndexOf(':');
  if (colon < 0) throw new HostPortError(text);
  const portText = text.slice(colon + 1);
  let host = text.slice(0, colon);
  if (host.startsWith('[') || host.endsWith(']')) {
    if (!(host.startsWith('[') && host.endsWith(']'))) throw new HostPortError(text, 'unbalanced brackets');
    host = host.slice(1, -1);
    if (!BRACKETED_IPV6.test(host) && !BRACKETED_IPV4.test(host)) {
      throw new HostPortError(text, 'brackets must hold an IP address');
    }
  } else if (!PLAIN_HOST.test(host)) {
    throw new HostPortError(
      text,
      host.includes(':') ? 'an IPv6 address needs brackets, as in [::1]:7472' : `bad host "${host}"`,
    );
  }
  if (!/^\d{1,5}$/.test(portText)) throw new HostPortError(text);
  const port = Number(portText);
  if (port > MAX_PORT) throw new HostPortError(text, `port ${port} is out of range 0..${MAX_PORT}`);
  return { host: host === '' ? undefined : host, port };
}

/** The address as `HOST:PORT`, IPv6 in brackets (for logs and URLs). */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
