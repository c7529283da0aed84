// `npm run build`: the esbuild bundle the image runs (deploy/Dockerfile), into dist/:
//   dist/metalbeacon.mjs      the CLI (bin/main.ts and everything it imports)
//   dist/speaker-worker.mjs   the speaker's network thread, its one Worker: the L2 packet
//                             worker, the membership protocol and BFD (speaker/network-thread/entry.ts)
//   dist/*-HASH.mjs           chunks they share or load lazily
// Why a bundle when Node 24 runs the TypeScript itself: each isolate (main thread and the
// Worker) pays for the type stripper and every one of client-node's thousands of modules
// costs memory of its own; one plain-JavaScript file per isolate costs far less (README,
// Performance). Modules find their Worker entries and data through shared/runtime/entry-url.ts.
import { type BuildOptions, build } from 'esbuild';

const root = new URL('../', import.meta.url);
const common: BuildOptions = {
  absWorkingDir: root.pathname,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  sourcemap: 'linked',
  logLevel: 'warning',
  // CommonJS dependencies (undici, js-yaml, ...) call require(): give the ESM bundle one.
  banner: {
    js: "import { createRequire as __mbRequire } from 'node:module'; const require = __mbRequire(import.meta.url);",
  },
  // pino runs its transports (pino-pretty on a terminal) in a Worker that loads them from
  // node_modules by path: left to node_modules, which the image ships. `metalbeacon lab` is
  // not in the bundle either (it drives ip, BIRD and namespaces on a host and runs from a
  // checkout; bin/commands/lab.ts says so when run from the bundle): a path pattern, matched
  // after resolution, leaves every import of lab/ as an import.
  external: ['pino', 'pino-pretty', './lab/*'],
};

await Promise.all([
  build({
    ...common,
    entryPoints: {
      metalbeacon: 'bin/main.ts',
      'speaker-worker': 'speaker/network-thread/entry.ts',
    },
    outdir: 'dist',
    outExtension: { '.js': '.mjs' },
    // Code shared by the entries and what subcommands import lazily go to chunks beside them
    // (dist/, the depth shared/runtime/entry-url.ts expects): `metalbeacon bgp` then never
    // parses client-node, the controller never parses the BGP speaker.
    splitting: true,
    chunkNames: '[name]-[hash]',
  }),
]);
process.stdout.write('built dist/metalbeacon.mjs, dist/speaker-worker.mjs\n');
