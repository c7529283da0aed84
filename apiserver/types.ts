/** Shapes shared by the embedded API server's parts. Objects are plain JSON as on the wire. */

/** An object as stored and served: JSON with the standard metadata. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: unknown[];
  managedFields?: unknown[];
  [field: string]: unknown;
}

/** A CRD additionalPrinterColumn (also used for the built-in default columns). */
export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  format?: string;
  description?: string;
  priority?: number;
}

/** Validates (and prunes / defaults in place) an object of a CRD version; returns the problems. */
export type ObjectValidator = (obj: KubeObject) => { field: string; message: string; reason?: string }[];

/** A served resource type; built-ins and CRD versions alike (storage is generic). */
export interface ResourceType {
  group: string;
  version: string;
  /** Plural, lower case: the URL segment. */
  resource: string;
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  /** Has the `status` subresource: the main resource ignores status, /status ignores the rest. */
  hasStatus: boolean;
  shortNames: string[];
  categories: string[];
  /** Columns for Table output (`kubectl get`); `priority > 0` only with `-o wide`. */
  columns: PrinterColumn[];
  /** Extra field selectors beyond metadata.name / metadata.namespace: selector key → value getter. */
  fieldSelectors: Record<string, (obj: KubeObject) => string | undefined>;
  /** Schema enforcement for CRD-defined types. */
  validate?: ObjectValidator;
  /** Structural pruning + defaulting (CRDs); returns the pruned field paths (for fieldValidation=Strict). */
  prune?: (obj: KubeObject) => string[];
  /** The OpenAPI v3 schema (CRDs) for /openapi/v3 and kubectl explain. */
  openApiSchema?: Record<string, unknown>;
  /** Custom cell values for built-in tables (e.g. Service PORT(S)); column name → cell. */
  cells?: (obj: KubeObject) => Record<string, unknown>;
  /**
   * The server maintains metadata.generation (CRDs, workloads, Pods since 1.34). Services,
   * Nodes, ConfigMaps and other older kinds have none on a real cluster (kubernetes#113961).
   */
  tracksGeneration: boolean;
  /** Which name syntax the type's validation enforces (default: RFC 1123 subdomain). */
  nameRule?: NameRule;
  /**
   * Storage shared with another type (key as from storageKey) plus converters, for kinds the
   * real server serves under two groups (events.k8s.io/v1 Event = core/v1 Event).
   */
  storage?: {
    key: string;
    toStorage: (obj: KubeObject) => KubeObject;
    fromStorage: (obj: KubeObject) => KubeObject;
  };
  /** True for types defined by a CustomResourceDefinition (merge patch only, no strategic). */
  custom: boolean;
}

/** The `group/resource` key under which a type's objects are stored (version-independent). */
export function storageKey(t: { group: string; resource: string; storage?: { key: string } }): string {
  return t.storage?.key ?? `${t.group}/${t.resource}`;
}

/** `v1` or `group/version`, as in an object's apiVersion. */
export function apiVersionOf(t: { group: string; version: string }): string {
  return t.group === '' ? t.version : `${t.group}/${t.version}`;
}

/**
 * Name syntaxes of apimachinery validation: most kinds take an RFC 1123 subdomain, Services a
 * DNS-1035 label, Namespaces a DNS-1123 label, RBAC objects any path segment ("system:foo").
 */
export type NameRule = 'subdomain' | 'label1035' | 'label1123' | 'pathSegment';
