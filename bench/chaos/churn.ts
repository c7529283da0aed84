/**
 * The objects of the user's changes a chaos run makes (schedule.ts decides which and when):
 * the churn pool in one of two ranges and its L2Advertisement. Pure builders.
 */
import type { KubeObject } from '../../apiserver/types.ts';
import { API_VERSION, DEFAULT_NAMESPACE } from '../../shared/api/names.ts';
import { CHURN_POOL } from './schedule.ts';

/** The churn pool's two ranges: in the client's on-link Service range, outside every lab pool. */
export const CHURN_POOL_RANGES = ['198.51.100.192/28', '198.51.100.208/28'] as const;

/** The churn pool (range `variant`) and the L2Advertisement that announces it. */
export function churnPoolObjects(variant: number): KubeObject[] {
  const range = CHURN_POOL_RANGES[variant % CHURN_POOL_RANGES.length];
  return [
    {
      apiVersion: API_VERSION,
      kind: 'IPAddressPool',
      metadata: { name: CHURN_POOL, namespace: DEFAULT_NAMESPACE },
      spec: { addresses: [range], autoAssign: false },
    },
    {
      apiVersion: API_VERSION,
      kind: 'L2Advertisement',
      metadata: { name: CHURN_POOL, namespace: DEFAULT_NAMESPACE },
      spec: { ipAddressPools: [CHURN_POOL] },
    },
  ];
}
