import { CliError } from '../../shared/cli/errors.ts';
import { type HostPort, HostPortError, parseHostPort } from '../../shared/daemon/host-port.ts';

/** A `HOST:PORT` option (shared/daemon/host-port.ts), or a CliError naming the flag. */
export function listenOption(flag: string, text: string): HostPort {
  try {
    return parseHostPort(text);
  } catch (error) {
    if (!(error instanceof HostPortError)) throw error;
    throw new CliError(`${flag}: ${error.message}`, { hint: 'e.g. 127.0.0.1:7472 or [::1]:7472' });
  }
}

/** A failure to listen on a `HOST:PORT` option, as a CliError; undefined for any other error. */
export function listenFailure(flag: string, text: string, error: unknown): CliError | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' || code === 'EACCES') {
    return new CliError(`cannot listen on ${flag} ${text}: ${code}`, {
      hint: `choose another address with ${flag} HOST:PORT`,
    });
  }
  return undefined;
}
