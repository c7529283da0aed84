import { Command } from 'commander';
import { DEFAULT_NAMESPACE } from '../../shared/api/names.ts';
import { CliError } from '../../shared/cli/errors.ts';
import type { GlobalOptions } from '../program.ts';
import { connectToCluster } from './cluster.ts';
import { commandLogger } from './options.ts';

interface MembershipKeyOptions {
  namespace?: string;
  secret: string;
}

/**
 * `metalbeacon membership-key`: creates the speakers' membership Secret with a random key
 * unless it exists. The install runs it once (the kustomize Job membership-key; the Helm chart
 * renders the Secret itself), so that no long-running component needs to create Secrets.
 */
export function membershipKeyCommand(): Command {
  return new Command('membership-key')
    .description(
      "create the speakers' membership Secret with a random 32-byte key unless it exists (run once by the install)",
    )
    .option('--namespace <ns>', 'namespace of the speakers (default: $POD_NAMESPACE or metalbeacon-system)')
    .option(
      '--secret <name>',
      "name of the Secret (the speakers' --membership-secret)",
      'metalbeacon-membership',
    )
    .action(async (options: MembershipKeyOptions, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions & MembershipKeyOptions>();
      const log = commandLogger(globals, 'membership-key');
      const namespace = options.namespace ?? process.env.POD_NAMESPACE ?? DEFAULT_NAMESPACE;
      const { apiStatus } = await import('../../shared/k8s/client.ts');
      const { ensureMembershipSecret } = await import('../../speaker/shell/membership-secret.ts');
      const client = await connectToCluster(globals.kubeconfig);
      try {
        const { created } = await ensureMembershipSecret(client, namespace, options.secret);
        const secret = `${namespace}/${options.secret}`;
        log.info(
          { secret },
          created
            ? 'created the membership Secret with a random key'
            : 'the membership Secret exists; left as it is',
        );
      } catch (error) {
        if (apiStatus(error) === undefined) throw error;
        throw new CliError(`the API server refused: ${(error as Error).message}`, {
          hint: 'this needs get and create on Secrets in the namespace (deploy/kustomize/default/membership-key.yaml)',
        });
      } finally {
        client.close();
        log.flush();
      }
    });
}
