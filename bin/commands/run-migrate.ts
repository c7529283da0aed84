import { readdirSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { CrdLike } from '../../shared/api/crd-validation.ts';
import { CliError } from '../../shared/cli/errors.ts';
import { migrateText } from '../../shared/migrate/migrate.ts';
import { MigrateInputError } from '../../shared/migrate/parse.ts';
import { renderJson, renderReport, renderYaml } from '../../shared/migrate/render.ts';
import { migrationComplete } from '../../shared/migrate/types.ts';
import { entryUrl } from '../../shared/runtime/entry-url.ts';
import type { MigrateOptions } from './migrate.ts';

// What `metalbeacon migrate` does, loaded only when it runs: the YAML parser and the
// converter stay out of the other programs' memory (the speaker's above all).
const CRD_DIR = entryUrl(import.meta.url, '../../config/crd/', '../config/crd/');

/** The metalbeacon.io CRDs shipped in config/crd, to check the output against. */
function loadCrds(): CrdLike[] {
  return readdirSync(CRD_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => parseYaml(readFileSync(new URL(f, CRD_DIR), 'utf8')) as CrdLike);
}

function readInput(file: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const what = file === '-' ? 'standard input' : file;
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message;
    throw new CliError(`cannot read ${what}: ${reason}`, {
      hint: 'give a YAML file of MetalLB objects, or - to read them from standard input',
      exitCode: 2,
    });
  }
}

/** Runs `metalbeacon migrate FILE|-` with its parsed options (see migrate.ts). */
export function runMigrate(file: string, options: MigrateOptions): void {
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(options.namespace) || options.namespace.length > 63) {
    throw new CliError(`--namespace ${options.namespace} is not a valid namespace name`, {
      hint: 'use lower case letters, digits and -, for example metalbeacon-system',
      exitCode: 2,
    });
  }
  const text = readInput(file);
  let result: ReturnType<typeof migrateText>;
  try {
    result = migrateText(text, file === '-' ? 'stdin' : file, {
      namespace: options.namespace,
      rewriteServices: options.rewriteServices ?? false,
      crds: loadCrds(),
    });
  } catch (error) {
    if (error instanceof MigrateInputError) {
      throw new CliError(error.message, { hint: 'fix the YAML and run again', exitCode: 2 });
    }
    throw error;
  }
  if (
    result.objects.length + result.unconverted.length + result.skipped.length + result.services.length ===
      0 &&
    result.servicesUnchanged === 0
  ) {
    throw new CliError(`${file === '-' ? 'standard input' : file} holds no objects`, {
      hint: 'give MetalLB objects, e.g. the output of kubectl get -n metallb-system ipaddresspools,l2advertisements,bgpadvertisements,bgppeers,communities,bfdprofiles,configmaps -o yaml',
      exitCode: 2,
    });
  }
  const render = { source: file, namespace: options.namespace };
  if (options.output === 'json') {
    process.stdout.write(renderJson(result, render));
  } else {
    process.stdout.write(renderYaml(result, render));
    process.stderr.write(renderReport(result, render));
  }
  process.exitCode = migrationComplete(result) ? 0 : 1;
}
