import { ApiException, KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import type { KubeClient } from '../../shared/k8s/client.ts';
import { kubeClientFromConfig } from '../../shared/k8s/kubeconfig.ts';

// Two clients for the embedded API server: the programs' own (shared/k8s), and client-node,
// through which the tests make their own calls (a client nobody here wrote; ADR 0004).

/** The programs' client from kubeconfig text (the embedded API server's `kubeconfigText`). */
export function kubeClientFromText(text: string): KubeClient {
  return kubeClientFromConfig(parse(text));
}

/** Wire JSON as tests read it (responses, Status bodies, watch events): loosely typed on purpose. */
// biome-ignore lint/suspicious/noExplicitAny: assertions walk arbitrary response JSON; a wrong path fails the assertion
export type Wire = Record<string, any>;

/** client-node's KubeConfig for a started server (its `kubeconfigText`). */
export function kubeConfigFor(kubeconfigText: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfigText);
  return kc;
}

/** The HTTP code of a failed client call (ApiException), or rethrows anything else. */
export async function apiCode(call: Promise<unknown>): Promise<number> {
  try {
    await call;
    return 200;
  } catch (error) {
    if (error instanceof ApiException) return error.code;
    throw error;
  }
}

/** The parsed Status body of a failed client call. */
export async function apiStatus(call: Promise<unknown>): Promise<{ code: number; body: Wire }> {
  try {
    await call;
  } catch (error) {
    if (error instanceof ApiException) {
      const body = typeof error.body === 'string' ? JSON.parse(error.body) : error.body;
      return { code: error.code, body };
    }
    throw error;
  }
  throw new Error('the call succeeded but was expected to fail');
}
