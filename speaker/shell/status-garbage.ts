import { StatusLabels } from '../../shared/api/names.ts';
import { nodeSelector } from '../status/status-objects.ts';
import { goneNodes, orphans, speakerNodes, statusPlurals } from '../status/status-sync.ts';
import type { StatusObjects } from './objects.ts';
import type { CachedPod } from './trim.ts';

export interface StatusGarbageOptions {
  readonly objects: Pick<StatusObjects, 'delete' | 'list'>;
  readonly nodeName: string;
  /** The speaker Pods now. */
  readonly pods: () => readonly CachedPod[];
  /** Whether BGPSessionStates are written (their CRD is installed). */
  readonly sessionStates: () => boolean;
}

/**
 * Deletes the status objects of nodes whose speaker Pod is gone (a crashed speaker cannot): every
 * owner without a Pod once at start, then the nodes whose Pod disappeared since the last time.
 */
export class StatusGarbage {
  readonly #o: StatusGarbageOptions;
  /** Nodes whose speaker Pods we saw last time */
  #seen = new Set<string>();
  #collectedOnce = false;

  constructor(options: StatusGarbageOptions) {
    this.#o = options;
  }

  async collect(): Promise<void> {
    const { objects } = this.#o;
    const nodes = speakerNodes(this.#o.pods(), this.#o.nodeName);
    const plurals = statusPlurals(this.#o.sessionStates());
    if (!this.#collectedOnce) {
      for (const plural of plurals) {
        for (const name of orphans(await objects.list(plural, StatusLabels.Node), nodes))
          await objects.delete(plural, name);
      }
      this.#collectedOnce = true;
    } else {
      for (const node of goneNodes(this.#seen, nodes)) {
        for (const plural of plurals) {
          for (const o of await objects.list(plural, nodeSelector(node)))
            await objects.delete(plural, o.metadata?.name ?? '');
        }
      }
    }
    this.#seen = nodes;
  }
}
