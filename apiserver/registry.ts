import { type ResourceType, storageKey } from './types.ts';

/**
 * The served resource types, built-in and CRD-defined alike. Lookup is by URL
 * (group, version, plural); storage is per group/resource so all versions share objects.
 */
export class TypeRegistry {
  /** `group/version/resource` → type */
  private readonly byGvr = new Map<string, ResourceType>();
  /** Order of registration of group versions, for discovery (preferred version first). */
  private readonly groupOrder: string[] = [];

  constructor(types: ResourceType[] = []) {
    for (const t of types) this.add(t);
  }

  add(t: ResourceType): void {
    this.byGvr.set(`${t.group}/${t.version}/${t.resource}`, t);
    if (!this.groupOrder.includes(t.group)) this.groupOrder.push(t.group);
  }

  /** Removes every version of a group/resource (a deleted CRD). */
  remove(group: string, resource: string): void {
    for (const [k, t] of this.byGvr) if (t.group === group && t.resource === resource) this.byGvr.delete(k);
    const index = this.groupOrder.indexOf(group);
    if (index >= 0 && ![...this.byGvr.values()].some((t) => t.group === group))
      this.groupOrder.splice(index, 1);
  }

  lookup(group: string, version: string, resource: string): ResourceType | undefined {
    return this.byGvr.get(`${group}/${version}/${resource}`);
  }

  /** Any version of a group/resource (the first registered is the storage version). */
  anyVersion(key: string): ResourceType | undefined {
    for (const t of this.byGvr.values()) if (storageKey(t) === key) return t;
    return undefined;
  }

  /** The type of a kind in an apiVersion (for manifests). */
  byKind(apiVersion: string, kind: string): ResourceType | undefined {
    for (const t of this.byGvr.values()) {
      const av = t.group === '' ? t.version : `${t.group}/${t.version}`;
      if (av === apiVersion && t.kind === kind) return t;
    }
    return undefined;
  }

  all(): ResourceType[] {
    return [...this.byGvr.values()];
  }

  /** group → versions in registration order ('' is the core group). */
  groups(): { group: string; versions: string[] }[] {
    return this.groupOrder.map((group) => ({
      group,
      versions: [
        ...new Set(
          this.all()
            .filter((t) => t.group === group)
            .map((t) => t.version),
        ),
      ],
    }));
  }

  inGroupVersion(group: string, version: string): ResourceType[] {
    return this.all().filter((t) => t.group === group && t.version === version);
  }
}
