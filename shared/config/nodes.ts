import type { NodeLike } from '../api/resources.ts';
import { compareText } from './names.ts';
import { matchesAnySelector } from './selectors.ts';
import type { LabelSelector } from './types.ts';

/** Names of the nodes that match any of the selectors (all nodes when there are none), sorted. */
export function resolveNodes(selectors: readonly LabelSelector[], nodes: readonly NodeLike[]): string[] {
  return nodes
    .filter((n) => matchesAnySelector(selectors, n.metadata.labels))
    .map((n) => n.metadata.name)
    .sort(compareText);
}
