import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

/**
 * Validation of custom resources against the OpenAPI v3 schema of their CRD, the way a
 * Kubernetes API server does it (apiextensions-apiserver): drop `null` values of non-nullable
 * fields, prune unknown fields, apply defaults, then validate. Used by the embedded API server
 * (422 on errors) and by the tests of config/samples. CEL rules (`x-kubernetes-validations`)
 * are not evaluated; the config snapshot (shared/config) checks everything they would.
 */

/** The part of an apiextensions.k8s.io/v1 CustomResourceDefinition this module reads. */
export interface CrdLike {
  readonly spec: {
    readonly group: string;
    readonly names: { readonly kind: string; readonly plural: string };
    readonly versions: readonly {
      readonly name: string;
      readonly schema?: { readonly openAPIV3Schema?: JsonSchema };
    }[];
  };
}

/** An OpenAPI v3 (structural) schema node. */
export interface JsonSchema {
  readonly type?: string;
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly additionalProperties?: JsonSchema | boolean;
  readonly items?: JsonSchema;
  readonly default?: unknown;
  readonly nullable?: boolean;
  readonly 'x-kubernetes-preserve-unknown-fields'?: boolean;
  readonly 'x-kubernetes-int-or-string'?: boolean;
  readonly 'x-kubernetes-embedded-resource'?: boolean;
  readonly [keyword: string]: unknown;
}

/** Kubernetes' cause types (metav1.CauseType) for field errors. */
export type CrdFieldErrorType = 'FieldValueRequired' | 'FieldValueInvalid' | 'FieldValueNotSupported';

/** One schema violation, with the field path in Kubernetes form (`spec.addresses[0]`). */
export interface CrdFieldError {
  readonly type: CrdFieldErrorType;
  readonly field: string;
  /** The Kubernetes-style message, e.g. `Invalid value: 70000: spec.peerPort in body should be ...`. */
  readonly message: string;
}

export interface CrdValidationResult {
  readonly ok: boolean;
  /** A pruned and defaulted deep copy of the input: what the API server stores. */
  readonly object: unknown;
  readonly errors: readonly CrdFieldError[];
  /** Paths of fields the schema does not know (pruned); `kubectl --validate=strict` rejects these. */
  readonly unknownFields: readonly string[];
}

/** A compiled validator for one CRD: validates objects of any version it serves. */
export type CrdValidator = (object: unknown) => CrdValidationResult;

const DATE_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i;

function newAjv(): Ajv {
  // strict: false because CRDs carry x-kubernetes-* keywords and formats that Kubernetes
  // ignores when it does not know them (it only checks a handful of formats).
  const ajv = new Ajv({
    allErrors: true,
    verbose: true,
    strict: false,
    logger: false,
    validateFormats: true,
  });
  ajv.addFormat('date-time', DATE_TIME);
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  ajv.addKeyword({
    keyword: 'x-kubernetes-int-or-string',
    errors: false,
    validate: (enabled: boolean, data: unknown) =>
      !enabled || typeof data === 'string' || (typeof data === 'number' && Number.isInteger(data)),
  });
  return ajv;
}

/**
 * Compiles the schemas of every served version of `crd` once. The returned function picks the
 * version from the object's `apiVersion` (`group/version`).
 */
export function compileCrdValidator(crd: CrdLike): CrdValidator {
  const ajv = newAjv();
  // version name -> [schema, compiled validator]
  const byVersion = new Map<string, { schema: JsonSchema; validate: ValidateFunction }>();
  for (const version of crd.spec.versions) {
    const schema = version.schema?.openAPIV3Schema ?? {
      type: 'object',
      'x-kubernetes-preserve-unknown-fields': true,
    };
    byVersion.set(version.name, { schema, validate: ajv.compile(schema as object) });
  }
  return (object) => {
    const apiVersion = isRecord(object) ? object.apiVersion : undefined;
    const versionName = typeof apiVersion === 'string' ? apiVersion.slice(apiVersion.indexOf('/') + 1) : '';
    const entry = byVersion.get(versionName);
    if (!entry || apiVersion !== `${crd.spec.group}/${versionName}`) {
      const served = [...byVersion.keys()].map((v) => `"${crd.spec.group}/${v}"`).join(', ');
      return {
        ok: false,
        object,
        unknownFields: [],
        errors: [
          {
            type: 'FieldValueNotSupported',
            field: 'apiVersion',
            message: `Unsupported value: ${JSON.stringify(apiVersion ?? null)}: supported values: ${served}`,
          },
        ],
      };
    }
    const unknownFields: string[] = [];
    const cleaned = pruneAndDefault(object, entry.schema, '', unknownFields, true);
    const valid = entry.validate(cleaned);
    const errors = valid ? [] : toFieldErrors(entry.validate.errors ?? []);
    return { ok: errors.length === 0, object: cleaned, errors, unknownFields };
  };
}

/** One-shot form of {@link compileCrdValidator}; compile once instead on hot paths. */
export function validateAgainstCrd(crd: CrdLike, object: unknown): CrdValidationResult {
  return compileCrdValidator(crd)(object);
}

/** `field: message` lines, the body of a 422 Status `message`. */
export function formatCrdErrors(errors: readonly CrdFieldError[]): string {
  return errors.map((e) => `${e.field}: ${e.message}`).join(', ');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function joinField(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/**
 * Structural pruning and defaulting (Kubernetes: "Defaulting" and "Field pruning" of CRDs).
 * Returns a copy; records the paths it pruned in `unknown`.
 */
function pruneAndDefault(
  value: unknown,
  schema: JsonSchema,
  path: string,
  unknown: string[],
  isRoot: boolean,
): unknown {
  if (schema['x-kubernetes-preserve-unknown-fields'] === true && !schema.properties) {
    return structuredClone(value);
  }
  if (Array.isArray(value)) {
    const items = schema.items;
    return value.map((item, i) =>
      items ? pruneAndDefault(item, items, `${path}[${i}]`, unknown, false) : item,
    );
  }
  if (!isRecord(value)) return value;
  if (schema.type !== 'object' && !schema.properties) return structuredClone(value);
  const out: Record<string, unknown> = {};
  const properties = schema.properties ?? {};
  for (const [key, child] of Object.entries(value)) {
    const field = joinField(path, key);
    const childSchema = properties[key];
    if (isRoot && key === 'metadata') {
      // ObjectMeta is validated by the API server itself, never pruned by the CRD schema.
      out[key] = structuredClone(child);
    } else if (childSchema) {
      if (child === null && childSchema.nullable !== true) continue; // null means "unset"
      out[key] = pruneAndDefault(child, childSchema, field, unknown, false);
    } else if (typeof schema.additionalProperties === 'object') {
      out[key] = pruneAndDefault(child, schema.additionalProperties, field, unknown, false);
    } else if (
      schema.additionalProperties === true ||
      schema['x-kubernetes-preserve-unknown-fields'] === true
    ) {
      out[key] = structuredClone(child);
    } else {
      unknown.push(field);
    }
  }
  for (const [key, childSchema] of Object.entries(properties)) {
    if (out[key] === undefined && childSchema.default !== undefined) {
      out[key] = pruneAndDefault(
        structuredClone(childSchema.default),
        childSchema,
        joinField(path, key),
        unknown,
        false,
      );
    }
  }
  return out;
}

/** `/spec/addresses/0` -> `spec.addresses[0]` */
function toK8sPath(instancePath: string): string {
  let out = '';
  for (const raw of instancePath.split('/').slice(1)) {
    const part = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    out = /^\d+$/.test(part) ? `${out}[${part}]` : joinField(out, part);
  }
  return out;
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(JSON.stringify(value));
}

function toFieldErrors(ajvErrors: readonly ErrorObject[]): CrdFieldError[] {
  const out: CrdFieldError[] = [];
  const seen = new Set<string>();
  for (const e of ajvErrors) {
    const field = toK8sPath(e.instancePath);
    const value = e.data;
    const p = e.params as Record<string, unknown>;
    let error: CrdFieldError;
    switch (e.keyword) {
      case 'required':
        error = {
          type: 'FieldValueRequired',
          field: joinField(field, String(p.missingProperty)),
          message: 'Required value',
        };
        break;
      case 'enum':
        error = {
          type: 'FieldValueNotSupported',
          field,
          message: `Unsupported value: ${describe(value)}: supported values: ${(p.allowedValues as unknown[]).map(describe).join(', ')}`,
        };
        break;
      default:
        error = {
          type: 'FieldValueInvalid',
          field,
          message: `Invalid value: ${describe(value)}: ${detail(e, field)}`,
        };
    }
    const key = `${error.field}\u0000${error.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(error);
    }
  }
  return out;
}

/** The wording of Kubernetes' OpenAPI validator (k8s.io/kube-openapi/pkg/validation/errors). */
function detail(e: ErrorObject, field: string): string {
  const p = e.params as Record<string, unknown>;
  const name = field === '' ? 'body' : `${field} in body`;
  switch (e.keyword) {
    case 'type':
      return `${name} must be of type ${String(p.type)}: ${describe(typeof e.data)}`;
    case 'pattern':
      return `${name} should match '${String(p.pattern)}'`;
    case 'minimum':
      return `${name} should be greater than or equal to ${String(p.limit)}`;
    case 'maximum':
      return `${name} should be less than or equal to ${String(p.limit)}`;
    case 'minLength':
      return `${name} should be at least ${String(p.limit)} chars long`;
    case 'maxLength':
      return `${name} may not be more than ${String(p.limit)} chars long`;
    case 'minItems':
      return `${name} should have at least ${String(p.limit)} items`;
    case 'maxItems':
      return `${name} should have at most ${String(p.limit)} items`;
    case 'format':
      return `${name} must be of type ${String(p.format)}`;
    default:
      return `${name} ${e.message ?? 'is invalid'}`;
  }
}
