import { Command, Option } from 'commander';
import { DEFAULT_NAMESPACE } from '../../shared/api/names.ts';

export interface MigrateOptions {
  namespace: string;
  rewriteServices?: boolean;
  output: 'yaml' | 'json';
}

/**
 * `metalbeacon migrate FILE|-`: MetalLB configuration in, metalbeacon.io objects out on stdout,
 * the report on stderr (or everything as JSON with `-o json`). Exit 0 when everything
 * converted into a valid configuration, 1 when something was not (the rest is still printed),
 * 2 on usage errors and unreadable input.
 */
export function migrateCommand(): Command {
  return new Command('migrate')
    .description(
      'convert MetalLB configuration (metallb.io CRs, the legacy ConfigMap, Service annotations) to MetalBeacon',
    )
    .argument('<file>', 'YAML file with MetalLB objects (several documents, or a List), or - for stdin')
    .option('-n, --namespace <namespace>', 'namespace of the produced objects', DEFAULT_NAMESPACE)
    .option('--rewrite-services', 'also output the Services with their annotations renamed')
    .addOption(
      new Option('-o, --output <format>', 'yaml: objects on stdout, report on stderr; json: all on stdout')
        .choices(['yaml', 'json'])
        .default('yaml'),
    )
    .addHelpText(
      'after',
      '\nExit status: 0 all converted, 1 something not converted (listed; the rest is printed), 2 usage or unreadable input.',
    )
    .action(async (file: string, options: MigrateOptions) => {
      const { runMigrate } = await import('./run-migrate.ts');
      runMigrate(file, options);
    });
}
