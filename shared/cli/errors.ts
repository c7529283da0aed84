/**
 * An error meant for the person at the terminal: `main` prints `message` and `hint` on one
 * line each, without a stack trace, and exits with `exitCode`.
 */
export class CliError extends Error {
  readonly hint: string | undefined;
  readonly exitCode: number;

  constructor(message: string, options: { hint?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CliError';
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? 1;
  }
}

/** Renders any thrown value as the one or two lines a user sees. */
export function describeFailure(error: unknown): { text: string; exitCode: number } {
  if (error instanceof CliError) {
    const text = error.hint ? `error: ${error.message}\nhint: ${error.hint}` : `error: ${error.message}`;
    return { text, exitCode: error.exitCode };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { text: `error: ${message}`, exitCode: 1 };
}
