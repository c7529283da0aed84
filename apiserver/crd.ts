import { type CrdLike, compileCrdValidator } from '../shared/api/crd-validation.ts';
import { invalid } from './errors.ts';
import type { KubeObject, PrinterColumn, ResourceType } from './types.ts';

/** The parts of apiextensions.k8s.io/v1 CustomResourceDefinition the server uses. */
type OpenApiSchema = Record<string, unknown>;

interface CrdSpec {
  group: string;
  scope: 'Namespaced' | 'Cluster';
  names: {
    plural: string;
    singular?: string;
    kind: string;
    listKind?: string;
    shortNames?: string[];
    categories?: string[];
  };
  versions: {
    name: string;
    served: boolean;
    storage: boolean;
    schema?: { openAPIV3Schema?: OpenApiSchema };
    subresources?: { status?: object; scale?: object };
    additionalPrinterColumns?: PrinterColumn[];
  }[];
}

/** Checks what the real server checks before it accepts a CRD (the parts that matter here). */
export function validateCrd(obj: KubeObject): void {
  const spec = obj.spec as Partial<CrdSpec> | undefined;
  const name = obj.metadata.name ?? '';
  const causes: { field: string; message: string }[] = [];
  if (!spec?.group) causes.push({ field: 'spec.group', message: 'Required value' });
  if (!spec?.names?.plural) causes.push({ field: 'spec.names.plural', message: 'Required value' });
  if (!spec?.names?.kind) causes.push({ field: 'spec.names.kind', message: 'Required value' });
  if (spec?.scope !== 'Namespaced' && spec?.scope !== 'Cluster') {
    causes.push({
      field: 'spec.scope',
      message: `Unsupported value: "${spec?.scope}": supported values: "Cluster", "Namespaced"`,
    });
  }
  if (spec?.group && spec.names?.plural && name !== `${spec.names.plural}.${spec.group}`) {
    causes.push({
      field: 'metadata.name',
      message: `Invalid value: "${name}": must be spec.names.plural+"."+spec.group`,
    });
  }
  const versions = spec?.versions ?? [];
  if (versions.length === 0) causes.push({ field: 'spec.versions', message: 'Required value' });
  if (versions.length > 0 && versions.filter((v) => v.storage).length !== 1) {
    causes.push({
      field: 'spec.versions',
      message: 'Invalid value: must have exactly one version marked as storage version',
    });
  }
  versions.forEach((v, i) => {
    if (!v.schema?.openAPIV3Schema) {
      causes.push({
        field: `spec.versions[${i}].schema.openAPIV3Schema`,
        message: 'Required value: schemas are required',
      });
    }
  });
  if (causes.length > 0) throw invalid('apiextensions.k8s.io', 'CustomResourceDefinition', name, causes);
}

/** One ResourceType per served version; the storage version first (it names the storage). */
export function typesFromCrd(obj: KubeObject): ResourceType[] {
  const spec = obj.spec as CrdSpec;
  const names = spec.names;
  // The shared validator (also used by config tests) prunes, defaults and validates like
  // apiextensions-apiserver; it works on a copy, which we write back into the stored object.
  const validator = compileCrdValidator(obj as unknown as CrdLike);
  const run = (o: KubeObject, version: string) => {
    const result = validator({ ...o, apiVersion: `${spec.group}/${version}` });
    const cleaned = result.object as KubeObject;
    for (const key of Object.keys(o)) delete o[key];
    Object.assign(o, cleaned);
    delete o.apiVersion;
    return result;
  };
  const versions = [...spec.versions]
    .filter((v) => v.served)
    .sort((a, b) => Number(b.storage) - Number(a.storage));
  return versions.map((v) => {
    const schema = v.schema?.openAPIV3Schema ?? {
      type: 'object',
      'x-kubernetes-preserve-unknown-fields': true,
    };
    const columns: PrinterColumn[] = [
      {
        name: 'Name',
        type: 'string',
        format: 'name',
        jsonPath: '.metadata.name',
        description: 'Name must be unique within a namespace.',
      },
      ...(v.additionalPrinterColumns && v.additionalPrinterColumns.length > 0
        ? v.additionalPrinterColumns
        : [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }]),
    ];
    return {
      group: spec.group,
      version: v.name,
      resource: names.plural,
      singular: names.singular ?? names.kind.toLowerCase(),
      kind: names.kind,
      listKind: names.listKind ?? `${names.kind}List`,
      namespaced: spec.scope === 'Namespaced',
      hasStatus: v.subresources?.status !== undefined,
      shortNames: names.shortNames ?? [],
      categories: names.categories ?? [],
      columns,
      fieldSelectors: {},
      validate: (o) =>
        run(o, v.name).errors.map((e) => ({ field: e.field, message: e.message, reason: e.type })),
      prune: (o) => [...run(o, v.name).unknownFields],
      openApiSchema: schema,
      custom: true,
      tracksGeneration: true,
    } satisfies ResourceType;
  });
}

/** The status a real server writes on an accepted CRD (kubectl wait --for condition=established reads it). */
export function crdStatus(obj: KubeObject, now: string): Record<string, unknown> {
  const spec = obj.spec as CrdSpec;
  const cond = (type: string, reason: string, message: string) => ({
    type,
    status: 'True',
    lastTransitionTime: now,
    reason,
    message,
  });
  return {
    conditions: [
      cond('NamesAccepted', 'NoConflicts', 'no conflicts found'),
      cond('Established', 'InitialNamesAccepted', 'the initial names have been accepted'),
    ],
    acceptedNames: {
      plural: spec.names.plural,
      singular: spec.names.singular ?? spec.names.kind.toLowerCase(),
      kind: spec.names.kind,
      listKind: spec.names.listKind ?? `${spec.names.kind}List`,
      ...(spec.names.shortNames ? { shortNames: spec.names.shortNames } : {}),
      ...(spec.names.categories ? { categories: spec.names.categories } : {}),
    },
    storedVersions: spec.versions.filter((v) => v.storage).map((v) => v.name),
  };
}
