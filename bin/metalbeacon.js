#!/usr/bin/env node
// Plain JavaScript on purpose: it must run on any Node to say clearly that Node 24 is needed,
// before Node tries to load the TypeScript sources (which older Nodes cannot strip).
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `error: MetalBeacon needs Node.js 24 or newer, this is ${process.version}\n` +
      "hint: run it through npm (npm run metalbeacon -- ARGS), which puts the project's Node 24 first on the PATH\n",
  );
  process.exit(1);
}
await import('./main.ts');
