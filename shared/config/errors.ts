import type { ConfigError } from './types.ts';

/** Which object an error is about: kind plus namespace/name. */
export interface ObjectRef {
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
}

/** The reference of an object from its kind and metadata. */
export function refOf(
  kind: string,
  metadata: { readonly name: string; readonly namespace?: string },
): ObjectRef {
  return metadata.namespace
    ? { kind, namespace: metadata.namespace, name: metadata.name }
    : { kind, name: metadata.name };
}

/** `Kind namespace/name`, for messages that point at another object. */
export function describeRef(ref: ObjectRef): string {
  return `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
}

/**
 * An error about `field` of the object `ref`. `transient` marks errors that may fix themselves
 * when a referenced object appears (a Secret, a BFDProfile, a Community alias).
 */
export function configError(ref: ObjectRef, field: string, message: string, transient = false): ConfigError {
  const base = { ...ref, field, message };
  return transient ? { ...base, transient: true } : base;
}
