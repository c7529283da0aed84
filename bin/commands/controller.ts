import { Command } from 'commander';
import { DEFAULT_NAMESPACE } from '../../shared/api/names.ts';
import type { GlobalOptions } from '../program.ts';
import { connectToCluster } from './cluster.ts';
import { commandLogger, listenFailure, listenOption } from './options.ts';

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
      const metricsListen = listenOption('--metrics-listen', options.metricsListen);
      const log = commandLogger(globals, 'controller');
      const client = await connectToCluster(globals.kubeconfig);
      // Loaded here, not at the top: other subcommands need not pay for the controller.
      const { startController } = await import('../../controller/shell/controller.ts');
      let controller: Awaited<ReturnType<typeof startController>>;
      try {
        controller = await startController({
          client,
          namespace: options.namespace,
          lbClass: options.lbClass,
          leaderElect: options.leaderElect,
          metricsListen,
          log,
        });
      } catch (error) {
        throw listenFailure('--metrics-listen', options.metricsListen, error) ?? error;
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
