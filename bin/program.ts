import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { LOG_LEVELS } from '../shared/log/logger.ts';
import { apiserverCommand } from './commands/apiserver.ts';
import { bgpCommand } from './commands/bgp.ts';
import { controllerCommand } from './commands/controller.ts';
import { l2Command } from './commands/l2.ts';
import { labCommand } from './commands/lab.ts';
import { membershipKeyCommand } from './commands/membership-key.ts';
import { migrateCommand } from './commands/migrate.ts';
import { speakerCommand } from './commands/speaker.ts';
import { statusCommand } from './commands/status.ts';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/** Options every subcommand sees (through `command.optsWithGlobals()`). */
export interface GlobalOptions {
  logLevel: (typeof LOG_LEVELS)[number];
  logFormat: 'json' | 'pretty' | undefined;
  kubeconfig: string | undefined;
}

/** The `metalbeacon` command line; subcommands live in ./commands, one file each. */
export function buildProgram(): Command {
  const program = new Command('metalbeacon')
    .description(
      'Bare-metal LoadBalancer for Kubernetes: assigns Service IPs and announces them by ARP/NDP or BGP',
    )
    .version(pkg.version, '-V, --version')
    .addOption(new Option('--log-level <level>', 'log level').choices(LOG_LEVELS).default('info'))
    .addOption(
      new Option('--log-format <format>', 'log format (default: pretty on a terminal, else JSON)').choices([
        'json',
        'pretty',
      ]),
    )
    .addOption(
      new Option(
        '--kubeconfig <file>',
        'kubeconfig to use (default: $KUBECONFIG, in-cluster, ~/.kube/config)',
      ),
    )
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  program.addCommand(apiserverCommand());
  program.addCommand(controllerCommand());
  program.addCommand(l2Command());
  program.addCommand(bgpCommand());
  program.addCommand(migrateCommand());
  program.addCommand(labCommand());
  program.addCommand(statusCommand());
  program.addCommand(speakerCommand());
  program.addCommand(membershipKeyCommand());
  // Subcommands throw instead of exiting too, so bin/main.ts decides the exit code.
  for (const command of program.commands)
    command.exitOverride().showHelpAfterError(`(run metalbeacon ${command.name()} --help for usage)`);
  return program;
}
