import { fileURLToPath } from 'node:url';

/** The Node binary the tests run our programs with. */
export const NODE = process.execPath;

/** The `metalbeacon` command's entry. */
export const CLI = fileURLToPath(new URL('../../bin/metalbeacon.js', import.meta.url));

/** argv of `metalbeacon l2 <args>` with JSON logs, which the tests read. */
export function l2Command(...args: string[]): string[] {
  return [NODE, CLI, '--log-format', 'json', 'l2', ...args];
}

/**
 * The setpriv prefix that runs a command as nobody with no capability but those named (as
 * setpriv spells them, e.g. `net_raw`), inherited and ambient so that they survive the exec.
 */
export function asNobody(...capabilities: string[]): string[] {
  const keep = capabilities.map((c) => `+${c}`).join(',');
  const caps = capabilities.length > 0 ? [`--inh-caps=${keep}`, `--ambient-caps=${keep}`] : [];
  return ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', ...caps];
}
