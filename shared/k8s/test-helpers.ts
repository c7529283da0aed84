/**
 * A kubeconfig with one context `x` (cluster `c` at `server`, user `u`), as the tests of the
 * client write it; `cluster` and `user` fields are merged into those entries.
 */
export function kubeconfigWith(
  server: string,
  cluster: Record<string, unknown> = {},
  user: Record<string, unknown> = {},
) {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'x',
    contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
    clusters: [{ name: 'c', cluster: { server, ...cluster } }],
    users: [{ name: 'u', user }],
  };
}
