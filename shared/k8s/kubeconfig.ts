import { existsSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { CliError } from '../cli/errors.ts';

/**
 * Loads the kubeconfig the way kubectl does: an explicit path first, then $KUBECONFIG,
 * then the in-cluster service account, then ~/.kube/config.
 */
export function loadKubeConfig(
  explicitPath: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): KubeConfig {
  const kc = new KubeConfig();
  const path = explicitPath ?? env.KUBECONFIG?.split(':').find((p) => p.length > 0);
  try {
    if (path !== undefined) {
      if (!existsSync(path)) {
        throw new CliError(`kubeconfig ${path} does not exist`, {
          hint: 'pass --kubeconfig FILE or set KUBECONFIG to a readable kubeconfig (metalbeacon apiserver --write-kubeconfig FILE makes one)',
        });
      }
      kc.loadFromFile(path);
    } else if (env.KUBERNETES_SERVICE_HOST) {
      kc.loadFromCluster();
    } else {
      kc.loadFromDefault();
    }
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`cannot read kubeconfig${path ? ` ${path}` : ''}: ${(error as Error).message}`, {
      hint: 'check the file is a valid kubeconfig (YAML with clusters, users and a current-context)',
      cause: error,
    });
  }
  if (!kc.getCurrentCluster()) {
    throw new CliError('no Kubernetes cluster configured', {
      hint: 'pass --kubeconfig FILE or set KUBECONFIG; inside a Pod the service account is used',
    });
  }
  return kc;
}
