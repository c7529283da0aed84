import type { ConfigError } from '../config/types.ts';

/**
 * Result types of the MetalLB -> MetalBeacon migration (`metalbeacon migrate`). Every input
 * object ends up in exactly one place: converted (`objects`), a Service annotation plan
 * (`services`), skipped on purpose with a reason (`skipped`), or not converted with a reason
 * (`unconverted`). Nothing is dropped without an entry.
 */

/** Where something came from in the input stream. */
export interface SourceRef {
  /** 1-based index of the YAML document in the stream. */
  readonly document: number;
  /** 1-based line where the document (or the legacy entry's document) starts. */
  readonly line: number;
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  /** Inside a legacy ConfigMap or a List: the entry, e.g. `data.config address-pools[1]`. */
  readonly entry?: string;
}

/** One produced manifest and the source it came from. */
export interface ConvertedObject {
  readonly from: SourceRef;
  readonly object: Manifest;
}

/** A Kubernetes manifest as plain JSON data. */
export interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
    readonly [key: string]: unknown;
  };
  readonly [key: string]: unknown;
}

/** Something the user must look at: an object or field that was not (fully) carried over. */
export interface MigrationIssue {
  readonly from: SourceRef;
  /** Field path in the source object (`spec.vrf`), absent when the whole object is meant. */
  readonly field?: string;
  readonly reason: string;
}

/** One Service annotation to rename. */
export interface AnnotationRename {
  readonly from: string;
  readonly to: string;
  readonly value: string;
}

/** What to change on one Service: annotations to add under the new name and old ones to remove. */
export interface ServicePlan {
  readonly from: SourceRef;
  readonly namespace: string;
  readonly name: string;
  readonly renames: readonly AnnotationRename[];
  /** Old annotations to remove without a rename (the other spelling of a renamed one lost). */
  readonly removals: readonly string[];
}

/** A produced object that fails its CRD schema (the MetalLB input was already invalid). */
export interface SchemaIssue {
  readonly from: SourceRef;
  readonly kind: string;
  readonly name: string;
  readonly field: string;
  readonly message: string;
}

export interface MigrationResult {
  /** metalbeacon.io objects (and Secrets, and rewritten Services when asked), in input order. */
  readonly objects: readonly ConvertedObject[];
  readonly services: readonly ServicePlan[];
  /** Converted, with a change the user should know about (namespace moves, defaults, ...). */
  readonly warnings: readonly MigrationIssue[];
  /** Not converted, whole objects or single fields, each with its reason. */
  readonly unconverted: readonly MigrationIssue[];
  /** Objects with nothing to convert (MetalLB run-time status objects), listed for completeness. */
  readonly skipped: readonly MigrationIssue[];
  /** CRD schema violations of produced objects. */
  readonly schemaErrors: readonly SchemaIssue[];
  /** Errors of `buildConfig` over the produced objects, as the controller would report them. */
  readonly configErrors: readonly ConfigError[];
  /** Number of Services that carry no MetalLB annotation (nothing to do). */
  readonly servicesUnchanged: number;
}

/** True when everything converted and the result builds a valid configuration. */
export function migrationComplete(result: MigrationResult): boolean {
  return (
    result.unconverted.length === 0 &&
    result.schemaErrors.length === 0 &&
    result.configErrors.every((e) => e.transient === true)
  );
}

/** `document 3 (line 41) metallb.io/v1beta1 IPAddressPool metallb-system/prod [entry]` */
export function describeSource(from: SourceRef): string {
  const object = from.namespace ? `${from.namespace}/${from.name}` : from.name;
  const entry = from.entry ? ` ${from.entry}` : '';
  return `document ${from.document} (line ${from.line}) ${from.apiVersion} ${from.kind} ${object}${entry}`;
}
