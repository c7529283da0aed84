import { stringify } from 'yaml';
import { formatConfigError } from '../config/types.ts';
import {
  describeSource,
  type MigrationIssue,
  type MigrationResult,
  migrationComplete,
  type ServicePlan,
} from './types.ts';

/**
 * Renderings of a migration: the YAML stream for `kubectl apply`, a line-per-item report for
 * people and grep, and JSON for scripts. Every report line starts with a fixed tag
 * (`NOT CONVERTED:`, `WARNING:`, `SKIPPED:`, `SCHEMA ERROR:`, `CONFIG ERROR:`, `SERVICE`).
 */

export interface RenderOptions {
  /** Input name as the user gave it (`-` is shown as stdin). */
  readonly source: string;
  readonly namespace: string;
}

function sourceLabel(source: string): string {
  return source === '-' ? 'stdin' : source;
}

/** One line counting everything, the first line of the report and of the YAML header. */
export function summaryLine(result: MigrationResult, options: RenderOptions): string {
  const parts = [
    `${result.objects.length} object${result.objects.length === 1 ? '' : 's'} converted from ${sourceLabel(options.source)} into namespace ${options.namespace}`,
    `${result.unconverted.length} not converted`,
    `${result.warnings.length} warning${result.warnings.length === 1 ? '' : 's'}`,
    `${result.skipped.length} skipped`,
    `${result.schemaErrors.length} schema error${result.schemaErrors.length === 1 ? '' : 's'}`,
    `${result.configErrors.length} config error${result.configErrors.length === 1 ? '' : 's'}`,
    `${result.services.length} Service${result.services.length === 1 ? '' : 's'} to update`,
  ];
  return parts.join(', ');
}

/** The converted objects as a multi-document YAML stream, each with a comment naming its source. */
export function renderYaml(result: MigrationResult, options: RenderOptions): string {
  const header = [
    '# MetalBeacon (metalbeacon.io/v1beta1) configuration converted from MetalLB by `metalbeacon migrate`.',
    `# ${summaryLine(result, options)}.`,
    migrationComplete(result)
      ? '# Everything was converted.'
      : '# NOT everything was converted: read the report (stderr, or `metalbeacon migrate -o json`).',
    '# Apply with: kubectl apply -f FILE',
  ];
  const docs = result.objects.map(({ from, object }) => {
    // YAML 1.1 quoting, so readers that still follow 1.1 (yes/no, 1:30) get the same strings.
    const body = stringify(object, { version: '1.1', lineWidth: 0 });
    return `# from ${sourceLabel(options.source)} ${describeSource(from)}\n${body}`;
  });
  return `${header.join('\n')}\n${docs.map((d) => `---\n${d}`).join('')}`;
}

function issueLine(tag: string, issue: MigrationIssue): string {
  const field = issue.field ? ` ${issue.field}` : '';
  return `${tag}: ${describeSource(issue.from)}${field}: ${issue.reason}`;
}

/** POSIX shell single quoting. */
function shellQuote(text: string): string {
  return /^[A-Za-z0-9_./:=,@%+-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}

/** The `kubectl annotate` command that applies a Service plan on a live cluster. */
export function annotateCommand(plan: ServicePlan): string {
  const args = [
    ...plan.renames.map((r) => `${r.to}=${r.value}`),
    ...plan.renames.map((r) => `${r.from}-`),
    ...plan.removals.map((key) => `${key}-`),
  ];
  return ['kubectl', 'annotate', '--overwrite', '-n', plan.namespace, 'service', plan.name, ...args]
    .map(shellQuote)
    .join(' ');
}

/** The human report: one line per item, grouped by tag, then the Service commands. */
export function renderReport(result: MigrationResult, options: RenderOptions): string {
  const lines = [`metalbeacon migrate: ${summaryLine(result, options)}`];
  for (const issue of result.unconverted) lines.push(issueLine('NOT CONVERTED', issue));
  for (const e of result.schemaErrors) {
    lines.push(`SCHEMA ERROR: ${describeSource(e.from)} -> ${e.kind} ${e.name} ${e.field}: ${e.message}`);
  }
  for (const e of result.configErrors) {
    lines.push(`CONFIG ERROR${e.transient ? ' (until the object exists)' : ''}: ${formatConfigError(e)}`);
  }
  for (const issue of result.warnings) lines.push(issueLine('WARNING', issue));
  for (const issue of result.skipped) lines.push(issueLine('SKIPPED', issue));
  for (const plan of result.services) {
    const changes = [
      ...plan.renames.map((r) => `${r.from} -> ${r.to}=${JSON.stringify(r.value)}`),
      ...plan.removals.map((key) => `remove ${key}`),
    ];
    lines.push(`SERVICE ${plan.namespace}/${plan.name}: ${changes.join('; ')}`);
    lines.push(`  ${annotateCommand(plan)}`);
  }
  if (result.servicesUnchanged > 0) {
    lines.push(`${result.servicesUnchanged} Service(s) carry no MetalLB annotation: nothing to change.`);
  }
  return `${lines.join('\n')}\n`;
}

/** The whole result as JSON for scripts (`-o json`). */
export function renderJson(result: MigrationResult, options: RenderOptions): string {
  return `${JSON.stringify(
    {
      source: sourceLabel(options.source),
      namespace: options.namespace,
      complete: migrationComplete(result),
      summary: summaryLine(result, options),
      objects: result.objects,
      services: result.services.map((plan) => ({ ...plan, command: annotateCommand(plan) })),
      unconverted: result.unconverted,
      warnings: result.warnings,
      skipped: result.skipped,
      schemaErrors: result.schemaErrors,
      configErrors: result.configErrors,
      servicesUnchanged: result.servicesUnchanged,
    },
    null,
    2,
  )}\n`;
}
