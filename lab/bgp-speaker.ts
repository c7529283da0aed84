/**
 * `metalbeacon bgp` (the BGP speaker without Kubernetes) in a lab namespace, and its JSON log:
 * what the BGP interoperability tests (test/bgp) and `npm run bench:bgp` drive.
 */
import { metalbeaconEntry } from './entry.ts';
import type { Lab, LabDaemon } from './netns.ts';

const ROOT = new URL('../', import.meta.url).pathname;

/** Node 24 and the CLI entry point, as `npm run metalbeacon` runs them. */
export const NODE = `${ROOT}node_modules/.bin/node`;
export const METALBEACON = metalbeaconEntry();

/** Starts `metalbeacon bgp ARGS` in a lab namespace with JSON logs; `nodeArgs` go to node itself. */
export function startSpeaker(
  lab: Lab,
  ns: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  nodeArgs: readonly string[] = [],
): LabDaemon {
  const command = [NODE, ...nodeArgs, METALBEACON, '--log-format', 'json', '--log-level', 'debug', 'bgp'];
  return lab.spawn(ns, [...command, ...args], { env });
}

/** The speaker's JSON log lines parsed (non-JSON lines skipped). */
export function logLines(daemon: LabDaemon): Record<string, unknown>[] {
  return daemon
    .output()
    .split('\n')
    .flatMap((line) => {
      if (!line.startsWith('{')) return [];
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}
