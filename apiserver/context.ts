import type { AuditEntry } from './authorization.ts';
import type { AllocationIndex, ServiceNetwork } from './defaulting.ts';
import type { OwnerIndex } from './lifecycle.ts';
import type { TypeRegistry } from './registry.ts';
import type { ObjectStore } from './store.ts';
import type { TokenTable } from './tokens.ts';

/** Everything a request handler needs; one per server (no module-level state). */
export interface Context {
  registry: TypeRegistry;
  store: ObjectStore;
  network: ServiceNetwork;
  allocations: AllocationIndex;
  owners: OwnerIndex;
  bookmarkIntervalMs: number;
  /** Delay before a terminating namespace's contents are deleted (0: at once). */
  namespaceDeletionDelayMs: number;
  serverAddress: () => string;
  /** The bearer tokens this server issued and revoked. */
  tokens: TokenTable;
  /** Called with each authorization decision for an authenticated request. */
  onAudit: ((entry: AuditEntry) => void) | undefined;
}
