import { parse } from 'yaml';
import type { KubeClient } from '../../shared/k8s/client.ts';
import { kubeClientFromConfig } from '../../shared/k8s/kubeconfig.ts';

/** A client from kubeconfig YAML (the embedded API server's `kubeconfigText`). */
export function kubeClientFromText(text: string): KubeClient {
  return kubeClientFromConfig(parse(text));
}
