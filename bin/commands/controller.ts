import { Command } from 'commander';
import { DEFAULT_NAMESPACE } from '../../shared/api/names.ts';
import { CliError } from '../../shared/cli/errors.ts';
import { createLogger } from '../../shared/log/logger.ts';
import type { GlobalOptions } from '../program.ts';

interface ControllerCliOptions {
  lbClass?: string;
  leaderElect: boolean;
  metricsListen: string;
  namespace: string;
}

/** `metalbeacon controller`: assigns pool IPs to LoadBalancer Services (controller/). */
export function controllerCommand(): Command {
  return new Command('controller')
    .description('assign IPs from IPAddressPools to LoadBalancer Services and report pool usage')
    .option(
      '--lb-class <class>',
      'handle only Services with this spec.loadBalancerClass (default: only those without one)',
    )
    .option('--leader-elect', 'elect one active replica through a coordination.k8s.io/v1 Lease', true)
    .option('--no-leader-elect', 'act alone, without a Lease (only one replica may run)')
    .option('--metrics-listen <host:port>', 'serve /metrics, /healthz and /readyz here', '0.0.0.0:7472')
    .option('--namespace <ns>', 'namespace of the MetalBeacon CRs and of the Lease', DEFAULT_NAMESPACE)
    .action(async (options: ControllerCliOptions, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions & ControllerCliOptions>();
      const log = createLogger({
        level: globals.logLevel,
        ...(globals.logFormat ? { pretty: globals.logFormat === 'pretty' } : {}),
        name: 'controller',
      });
      // Loaded here, not at the top: other subcommands need not pay for the Kubernetes client.
      const { loadKubeClient } = await import('../../shared/k8s/kubeconfig.ts');
      const { ensureApiServerReachable } = await import('../../shared/k8s/reachability.ts');
      const { startController } = await import('../../controller/shell/controller.ts');
      const client = await loadKubeClient(globals.kubeconfig);
      await ensureApiServerReachable(client);
      let controller: Awaited<ReturnType<typeof startController>>;
      try {
        controller = await startController({
          client,
          namespace: options.namespace,
          lbClass: options.lbClass,
          leaderElect: options.leaderElect,
          metricsListen: options.metricsListen,
          log,
        });
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' || code === 'EACCES') {
          throw new CliError(`cannot listen on --metrics-listen ${options.metricsListen}: ${code}`, {
            hint: 'choose another address with --metrics-listen HOST:PORT',
          });
        }
        throw error;
      }
      await new Promise<void>((resolve) => {
        const shutdown = (): void => {
          log.info('shutting down');
          void controller.stop().then(resolve);
        };
        process.once('SIGTERM', shutdown);
        process.once('SIGINT', shutdown);
      });
    });
}
