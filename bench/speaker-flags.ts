/**
 * The V8 flags a benchmark starts our speaker with: SPEAKER_NODE_ARGS (flags on the `node`
 * command line) and SPEAKER_NODE_OPTIONS (its NODE_OPTIONS), each by default what deploy/ ships
 * (lab/shipped-flags.ts); an empty value runs Node's defaults. One reading for every benchmark,
 * so that "as shipped" means the same in all their tables.
 */

/** What deploy/ puts on the speaker's `node` command line. */
export const SHIPPED_NODE_ARGS = '--lite-mode';
/** What deploy/ sets as the speaker's NODE_OPTIONS. */
export const SHIPPED_NODE_OPTIONS = '--max-semi-space-size=1';

/** SPEAKER_NODE_ARGS split into arguments, default {@link SHIPPED_NODE_ARGS}. */
export function speakerNodeArgs(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.SPEAKER_NODE_ARGS ?? SHIPPED_NODE_ARGS).split(' ').filter((a) => a !== '');
}

/** SPEAKER_NODE_OPTIONS, default {@link SHIPPED_NODE_OPTIONS}. */
export function speakerNodeOptions(env: NodeJS.ProcessEnv = process.env): string {
  return env.SPEAKER_NODE_OPTIONS ?? SHIPPED_NODE_OPTIONS;
}
