import { Command, Option } from 'commander';
import { DEFAULT_NAMESPACE } from '../../shared/api/names.ts';
import { CliError } from '../../shared/cli/errors.ts';
import type { GlobalOptions } from '../program.ts';
import { connectToCluster } from './cluster.ts';
import { commandLogger } from './options.ts';

/** What to do about each reason `metalbeacon status` cannot list (StatusListError). */
const STATUS_HINTS = {
  'crds-missing': 'install them with kubectl apply -f config/crd/ (or the deploy/ manifests or Helm chart)',
  refused:
    'metalbeacon status needs get/list on Services and Events cluster-wide and on the metalbeacon.io objects',
  failed: undefined,
} as const;

interface StatusCliOptions {
  output: 'table' | 'json';
  watch: boolean;
  namespace: string;
  lbClass?: string;
}

/**
 * `metalbeacon status`: one screen of what MetalBeacon does in a cluster: LoadBalancer Services
 * with IP, pool and announcing nodes, BGP sessions, pool usage, and the problems to look at.
 */
export function statusCommand(): Command {
  return new Command('status')
    .description('show LoadBalancer Services, announcing nodes, BGP sessions, pool usage and problems')
    .addOption(
      new Option('-o, --output <format>', 'table for people, json for scripts')
        .choices(['table', 'json'])
        .default('table'),
    )
    .option('-n, --namespace <ns>', 'namespace of the MetalBeacon objects', DEFAULT_NAMESPACE)
    .option('--lb-class <class>', 'show Services of this spec.loadBalancerClass (default: those without one)')
    .option(
      '-w, --watch',
      'keep the view current from watches until Ctrl-C (json: one document per line)',
      false,
    )
    .action(async (options: StatusCliOptions, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions & StatusCliOptions>();
      if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(options.namespace) || options.namespace.length > 63) {
        throw new CliError(`--namespace ${options.namespace} is not a valid namespace name`, {
          hint: 'use lower case letters, digits and -, for example metalbeacon-system',
          exitCode: 2,
        });
      }
      const client = await connectToCluster(globals.kubeconfig);
      // Loaded here, not at the top: other subcommands need not pay for them.
      const { listStatusObjects, StatusListError } = await import('../../shared/k8s/status-objects.ts');
      const { buildStatusReport } = await import('../../shared/status/report.ts');
      const { renderStatusJson, renderStatusText } = await import('../../shared/status/render.ts');

      let input: Awaited<ReturnType<typeof listStatusObjects>>;
      try {
        input = await listStatusObjects(client, options.namespace, options.lbClass);
      } catch (error) {
        client.close();
        if (!(error instanceof StatusListError)) throw error;
        throw new CliError(error.message, { hint: STATUS_HINTS[error.reason], cause: error });
      }
      if (options.watch) {
        const { watchStatus } = await import('./status-watch.ts');
        const stopped = new Promise<void>((resolve) => {
          process.once('SIGINT', () => resolve());
          process.once('SIGTERM', () => resolve());
        });
        try {
          await watchStatus({
            client,
            namespace: options.namespace,
            lbClass: options.lbClass,
            output: options.output,
            initial: input,
            // The view names failing lists and watches in its header; warnings on stderr would
            // only repeat them (and scribble over a terminal). --log-level debug shows them.
            log: commandLogger(
              {
                ...globals,
                logLevel: ['debug', 'trace'].includes(globals.logLevel) ? globals.logLevel : 'error',
              },
              'status',
            ),
            out: process.stdout,
            stopped,
          });
        } finally {
          client.close();
        }
        return;
      }
      client.close();
      const report = buildStatusReport(input);
      // A terminal gets a table that fits it; a pipe or file gets full lines, as kubectl does.
      const text =
        options.output === 'json'
          ? renderStatusJson(report)
          : renderStatusText(report, {
              nowMs: Date.now(),
              width: process.stdout.isTTY ? process.stdout.columns : Number.POSITIVE_INFINITY,
            });
      process.stdout.write(text);
    });
}
