import { ApiException, KubeConfig } from '@kubernetes/client-node';

/** Wire JSON as tests read it (responses, Status bodies, watch events): loosely typed on purpose. */
// biome-ignore lint/suspicious/noExplicitAny: assertions walk arbitrary response JSON; a wrong path fails the assertion
export type Wire = Record<string, any>;

/** A KubeConfig for a started server, through the real client library. */
export function kubeConfigFor(kubeconfigText: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfigText);
  return kc;
}

/** Polls `check` until it returns true; fails with `what` after `timeoutMs`. */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
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
