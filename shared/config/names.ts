import type { ObjectMeta } from '../api/meta.ts';
import { configError, describeRef, type ObjectRef, refOf } from './errors.ts';
import type { ConfigError } from './types.ts';

/**
 * Checks shared by every kind: the object lives in the expected namespace, its name is unique
 * within its kind, and string lists hold no duplicates.
 */

/** An object of some kind with its metadata, as the builders receive it. */
export interface Named {
  readonly metadata: ObjectMeta;
}

/**
 * Sorts objects by name (then namespace) so errors and results come out in a stable order, and
 * reports objects outside `namespace` (when given) and names used twice (our references between
 * objects are by name alone, as in MetalLB). Returns the objects that passed, with their refs.
 */
export function uniqueObjects<T extends Named>(
  kind: string,
  objects: readonly T[],
  namespace: string | undefined,
  errors: ConfigError[],
): { object: T; ref: ObjectRef }[] {
  const sorted = [...objects].sort(
    (a, b) =>
      compareText(a.metadata.name, b.metadata.name) ||
      compareText(a.metadata.namespace ?? '', b.metadata.namespace ?? ''),
  );
  const out: { object: T; ref: ObjectRef }[] = [];
  // name -> first object's ref
  const seen = new Map<string, ObjectRef>();
  for (const object of sorted) {
    const ref = refOf(kind, object.metadata);
    if (
      namespace !== undefined &&
      object.metadata.namespace !== undefined &&
      object.metadata.namespace !== namespace
    ) {
      errors.push(
        configError(
          ref,
          'metadata.namespace',
          `must be in namespace "${namespace}", where MetalBeacon reads its configuration`,
        ),
      );
      continue;
    }
    const first = seen.get(object.metadata.name);
    if (first) {
      errors.push(
        configError(ref, 'metadata.name', `duplicate name: ${describeRef(first)} has the same name`),
      );
      continue;
    }
    seen.set(object.metadata.name, ref);
    out.push({ object, ref });
  }
  return out;
}

/**
 * For the entries of a list field, in order: the index where an equal entry (same `key`) first
 * stood, or undefined when the entry is the first of its key (its index is then remembered).
 */
export function firstIndexes(): (key: string, index: number) => number | undefined {
  // key -> index of first occurrence
  const seen = new Map<string, number>();
  return (key, index) => {
    const first = seen.get(key);
    if (first === undefined) seen.set(key, index);
    return first;
  };
}

/** Reports repeated entries of a string list at `field[i]`; returns the list without them. */
export function uniqueStrings(
  values: readonly string[] | undefined,
  ref: ObjectRef,
  field: string,
  what: string,
  errors: ConfigError[],
): string[] {
  const firstIndexOf = firstIndexes();
  const out: string[] = [];
  (values ?? []).forEach((value, i) => {
    const first = firstIndexOf(value, i);
    if (first !== undefined) {
      errors.push(
        configError(
          ref,
          `${field}[${i}]`,
          `duplicate ${what} "${value}": already listed at ${field}[${first}]`,
        ),
      );
      return;
    }
    out.push(value);
  });
  return out;
}

/** Plain code-point order (not locale order), so results never depend on the machine. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
