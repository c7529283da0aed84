import { createInterface } from 'node:readline';
import type { BfdSessionSpec } from '../../speaker/bfd/engine/index.ts';
import { type Bfd, LocalBfd } from '../../speaker/bfd/io/bfd.ts';
import { WorkerBfd } from '../../speaker/bfd/io/worker-bfd.ts';

// BFD sessions in their own process, driven over stdin, for the tests of test/bfd: inside a lab
// namespace facing BIRD, or facing another of itself. argv[2]: `worker` (the speaker's way: the
// sessions on the network thread) or `main` (on this process's main thread, to show what a
// busy main thread would do to them). One JSON command per stdin line:
//   {"set": [BfdSessionSpec, ...]}   run these sessions
//   {"snapshot": true}               print the sessions and counters
//   {"block": MS}                    keep the main thread busy for MS, then print "unblocked"
// Prints one JSON line per transition, snapshot and command done; SIGTERM closes the sessions
// (AdminDown) and exits.

const thread = process.argv[2] === 'main' ? 'main' : 'worker';
const print = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);
const log = (level: string) => (obj: object, msg: string) => print({ event: 'log', level, msg, ...obj });
const logger = { info: log('info'), warn: log('warn'), error: log('error') };
const bfd: Bfd = thread === 'main' ? new LocalBfd({ logger }) : new WorkerBfd({ logger });
bfd.on('transition', (t) => print({ event: 'transition', ...t }));
bfd.on('error', (error) => {
  print({ event: 'error', message: error.message });
  process.exitCode = 1;
});

createInterface({ input: process.stdin }).on('line', (line) => {
  const command = JSON.parse(line) as { set?: BfdSessionSpec[]; snapshot?: true; block?: number };
  if (command.set) print({ event: 'set', problems: bfd.setSessions(command.set) });
  if (command.snapshot) void bfd.snapshot().then((snapshot) => print({ event: 'snapshot', ...snapshot }));
  if (command.block !== undefined) {
    const until = performance.now() + command.block;
    while (performance.now() < until) {
      // Busy: no timer, no I/O callback of this thread runs meanwhile.
    }
    print({ event: 'unblocked', ms: command.block });
  }
});
process.once('SIGTERM', () => {
  void bfd.close().then(() => {
    print({ event: 'closed' });
    process.exit(0);
  });
});
print({ event: 'ready', thread });
