import { Command, Option } from 'commander';
import { DEFAULT_NAMESPACE } from '../../shared/api/names.ts';
import { CliError } from '../../shared/cli/errors.ts';
import type { GlobalOptions } from '../program.ts';
import { connectToCluster } from './cluster.ts';
import {
  commandLogger,
  integerOption,
  listenFailure,
  listenOption,
  networkThreadPriorityFlag,
  networkThreadPriorityOption,
  regexOption,
} from './options.ts';

interface SpeakerCliOptions {
  nodeName?: string;
  namespace: string;
  metricsListen: string;
  membershipPort: string;
  membershipBindAddress?: string;
  membershipSecret: string;
  speakerSelector: string;
  membershipProfile: 'default' | 'fast';
  lbClass?: string;
  excludeInterfaces?: string;
  bgpShutdownDrain: string;
  bgpListenPort: string;
  handoverMs: string;
  restartHold: string;
  secretRefresh: string;
  networkThreadPriority: string;
}

/** RFC 1123 subdomain: what a Kubernetes Node name is. */
const NODE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** `metalbeacon speaker`: announces this node's share of the Service IPs (speaker/shell). */
export function speakerCommand(): Command {
  return new Command('speaker')
    .description('announce assigned Service IPs from this node by ARP/NDP (L2) or BGP; one per node')
    .option('--node-name <name>', "this node's Kubernetes Node name (default: $NODE_NAME)")
    .option(
      '--namespace <ns>',
      'namespace of the CRs, the membership Secret, the speaker Pods and the status objects (default: $POD_NAMESPACE or metalbeacon-system)',
    )
    .option('--metrics-listen <host:port>', 'serve /metrics, /healthz and /readyz here', '0.0.0.0:7473')
    .option('--membership-port <n>', 'UDP port of the membership protocol', '7951')
    .addOption(
      new Option('--membership-bind-address <ip>', 'membership socket address (default ::)').hideHelp(),
    )
    .option('--membership-secret <name>', 'Secret holding the membership HMAC keys', 'metalbeacon-membership')
    .option(
      '--speaker-selector <selector>',
      'label selector of the speaker Pods (membership peers)',
      'app.kubernetes.io/name=metalbeacon,app.kubernetes.io/component=speaker',
    )
    .addOption(
      new Option('--membership-profile <profile>', 'membership timing')
        .choices(['default', 'fast'])
        .default('default'),
    )
    .option(
      '--lb-class <class>',
      'announce only Services of this spec.loadBalancerClass (default: only those without one)',
    )
    .option('--exclude-interfaces <regex>', 'interfaces never used for L2')
    .option(
      '--bgp-shutdown-drain <seconds>',
      'on SIGTERM: GRACEFUL_SHUTDOWN, wait this long, then Cease (sessions without graceful restart)',
      '5',
    )
    .addOption(
      new Option('--bgp-listen-port <n>', 'port for incoming BGP connections (0: none)').default('179'),
    )
    .addOption(
      new Option('--handover-ms <ms>', 'on SIGTERM: keep answering this long after leaving').default('1000'),
    )
    .option(
      '--restart-hold <seconds>',
      'on SIGTERM: restart in place, the other speakers keep our L2 IPs for us this long (0: leave and hand them over)',
      '10',
    )
    .addOption(
      new Option(
        '--secret-refresh <seconds>',
        "read the BGPPeers' password Secrets again this often (they are never watched)",
      ).default('60'),
    )
    .addOption(networkThreadPriorityFlag())
    .action(async (options: SpeakerCliOptions, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions & SpeakerCliOptions>();
      const nodeName = options.nodeName ?? process.env.NODE_NAME;
      if (!nodeName) {
        throw new CliError('no node name', {
          hint: 'pass --node-name NAME or set NODE_NAME (the Pod spec.nodeName)',
        });
      }
      if (nodeName.length > 253 || !NODE_NAME.test(nodeName)) {
        throw new CliError(`--node-name: "${nodeName}" is not a Kubernetes Node name (RFC 1123 subdomain)`);
      }
      const namespace = options.namespace ?? process.env.POD_NAMESPACE ?? DEFAULT_NAMESPACE;
      const membershipPort = integerOption('--membership-port', options.membershipPort, 1, 65535);
      const drainSec = integerOption('--bgp-shutdown-drain', options.bgpShutdownDrain, 0, 3600);
      const bgpListenPort = integerOption('--bgp-listen-port', options.bgpListenPort, 0, 65535);
      const handoverMs = integerOption('--handover-ms', options.handoverMs, 0, 60_000);
      const restartHoldSec = integerOption('--restart-hold', options.restartHold, 0, 60);
      const secretRefreshSec = integerOption('--secret-refresh', options.secretRefresh, 1, 86_400);
      const networkThreadPriority = networkThreadPriorityOption(options.networkThreadPriority);
      const metricsListen = listenOption('--metrics-listen', options.metricsListen);
      const excludeInterfaces = regexOption('--exclude-interfaces', options.excludeInterfaces);
      const log = commandLogger(globals, 'speaker');
      const client = await connectToCluster(globals.kubeconfig);
      // Loaded here, not at the top: other subcommands need not pay for the speaker.
      const { startSpeaker } = await import('../../speaker/shell/speaker.ts');
      const { planNode } = await import('../../speaker/announce/plan.ts');
      let socketOptions: Awaited<ReturnType<typeof loadSocketOptions>> | undefined;
      try {
        socketOptions = await loadSocketOptions();
      } catch (error) {
        log.warn(
          { err: String(error) },
          'native addon without TCP MD5: BGP passwords and eBGP TTL unavailable',
        );
      }
      let speaker: Awaited<ReturnType<typeof startSpeaker>>;
      try {
        speaker = await startSpeaker({
          client,
          nodeName,
          namespace,
          log,
          planner: planNode,
          metricsListen,
          membershipPort,
          membershipBindAddress: options.membershipBindAddress,
          membershipSecret: options.membershipSecret,
          speakerSelector: options.speakerSelector,
          membershipProfile: options.membershipProfile,
          lbClass: options.lbClass,
          excludeInterfaces,
          bgpShutdownDrainSec: drainSec,
          bgpListenPort,
          handoverMs,
          restartHoldMs: restartHoldSec * 1000,
          secretRefreshMs: secretRefreshSec * 1000,
          socketOptions,
          networkThreadPriority,
        });
      } catch (error) {
        throw await asCliError(error, options);
      }
      const failure = await Promise.race([
        new Promise<undefined>((resolve) => {
          const shutdown = (): void => {
            void speaker.stop().then(() => resolve(undefined));
          };
          process.once('SIGTERM', shutdown);
          process.once('SIGINT', shutdown);
        }),
        speaker.failed,
      ]);
      log.flush();
      if (failure) throw new CliError(`speaker stopped: ${failure.message}`);
    });
}

async function loadSocketOptions() {
  const { nativeSocketOptions } = await import('../../speaker/bgp/native-socket.ts');
  return nativeSocketOptions();
}

/** Start-up failures a user can fix, as one line; anything else stays a crash (a bug). */
async function asCliError(error: unknown, options: SpeakerCliOptions): Promise<unknown> {
  const { apiStatus } = await import('../../shared/k8s/client.ts');
  const { MembershipBindError } = await import('../../speaker/membership/io/udp-membership.ts');
  const { MembershipSecretError } = await import('../../speaker/shell/membership-secret.ts');
  const { L2AnnouncerError } = await import('../../speaker/l2/io/announcer.ts');
  if (error instanceof MembershipBindError) {
    return new CliError(error.message, { hint: 'another speaker on this node? choose --membership-port' });
  }
  if (error instanceof MembershipSecretError) {
    return new CliError(error.message, {
      hint: `fix Secret ${options.membershipSecret}, or delete it and let the install make a new one (helm upgrade, or the kustomize Job membership-key)`,
    });
  }
  if (error instanceof L2AnnouncerError) return new CliError(error.message);
  const listening = listenFailure('--metrics-listen', options.metricsListen, error);
  if (listening) return listening;
  const status = apiStatus(error);
  if (status !== undefined) {
    return new CliError(`the API server refused a start-up request: HTTP ${status}`, {
      hint: 'check the speaker RBAC (config/rbac/speaker.yaml) and that the CRDs are installed',
      cause: error,
    });
  }
  return error;
}
