import { CommanderError } from 'commander';
import { describeFailure } from '../shared/cli/errors.ts';
import { buildProgram } from './program.ts';

// The only place that ends the process on failure: everything below throws.
try {
  await buildProgram().parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander has already printed help, the version, or the usage error in one line.
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else {
    const { text, exitCode } = describeFailure(error);
    process.stderr.write(`${text}\n`);
    process.exitCode = exitCode;
  }
}
