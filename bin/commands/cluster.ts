import { CliError } from '../../shared/cli/errors.ts';
import type { KubeClient } from '../../shared/k8s/client.ts';

/**
 * The API client of a command that talks to a cluster: the kubeconfig read and the server
 * answering. What shared/k8s throws becomes the one line and hint a user reads.
 */
export async function connectToCluster(
  kubeconfig: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<KubeClient> {
  // Loaded here, not at the top: other subcommands need not pay for the Kubernetes client.
  const { KubeconfigError, loadKubeClient } = await import('../../shared/k8s/kubeconfig.ts');
  const { ApiUnreachableError, ensureApiServerReachable } = await import('../../shared/k8s/reachability.ts');
  let client: KubeClient;
  try {
    client = await loadKubeClient(kubeconfig, env);
  } catch (error) {
    if (!(error instanceof KubeconfigError)) throw error;
    throw new CliError(error.message, {
      hint: error.missing
        ? 'pass --kubeconfig FILE or set KUBECONFIG to a readable kubeconfig (metalbeacon apiserver --write-kubeconfig FILE makes one)'
        : 'check the file is a valid kubeconfig (YAML with clusters, users and a current-context)',
      cause: error,
    });
  }
  try {
    await ensureApiServerReachable(client);
  } catch (error) {
    client.close();
    if (!(error instanceof ApiUnreachableError)) throw error;
    throw new CliError(error.message, {
      hint:
        error.reason === 'unreachable'
          ? 'check that the server is running and that --kubeconfig / KUBECONFIG points at the right cluster'
          : 'check the CA and the token the connection uses (the kubeconfig, or the in-cluster mount: $METALBEACON_SERVICE_ACCOUNT_DIR or /var/run/secrets/kubernetes.io/serviceaccount)',
      cause: error,
    });
  }
  return client;
}
