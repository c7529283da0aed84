// `npm run kubectl -- ARGS`: kubectl 1.34 from the dev dependency the tests use (lab/kubectl.ts),
// so the lab's hints run as printed on a fresh clone without a kubectl of the machine's own
// (Debian's is far too old). Arguments, stdio, KUBECONFIG and the exit status pass through.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { layerBinary } from './kubectl.ts';

const child = spawn(layerBinary('kubectl'), process.argv.slice(2), { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
child.on('error', (error) => {
  console.error(`error: kubectl did not start: ${error.message}`);
  process.exit(1);
});
// A kubectl ended by a signal exits as a shell reports it: 128 + the signal's number.
child.on('exit', (code, signal) => process.exit(code ?? 128 + (signal ? constants.signals[signal] : 0)));
