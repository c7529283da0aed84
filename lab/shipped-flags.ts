/**
 * The V8 flags deploy/ ships for each daemon: the `node` command line's flags plus NODE_OPTIONS
 * (passed here on the command line, which V8 treats alike). Labs and benchmarks that measure a
 * daemon "as shipped" start it with these; shipped-flags.test.ts fails when deploy/ changes them
 * and this list does not follow. Lite mode disables WebAssembly, which Node's type stripping
 * needs, so these flags only work with the bundle (METALBEACON_ENTRY=dist/metalbeacon.mjs).
 */
export const SHIPPED_NODE_FLAGS: Readonly<Record<'controller' | 'speaker', readonly string[]>> = {
  controller: ['--optimize-for-size'],
  speaker: ['--lite-mode', '--max-semi-space-size=1'],
};
