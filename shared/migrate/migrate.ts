import { type CrdLike, type CrdValidator, compileCrdValidator } from '../api/crd-validation.ts';
import { Annotations, API_VERSION, DEFAULT_NAMESPACE, GROUP } from '../api/names.ts';
import { buildConfig, type ConfigInputs, configInputsOf } from '../config/build-config.ts';
import {
  emit,
  isRecord,
  type MigrationContext,
  newContext,
  reserveName,
  unconverted,
  warn,
} from './context.ts';
import { convertMetallbResource, METALLB_GROUP, notePasswordSecret } from './crs.ts';
import { convertAddressPoolCr, convertLegacyConfigMap } from './legacy.ts';
import { parseManifestStream, type SourceDocument } from './parse.ts';
import { convertService } from './services.ts';
import type { Manifest, MigrationResult, SchemaIssue, SourceRef } from './types.ts';

export interface MigrateOptions {
  /** Namespace of the produced objects (default metalbeacon-system). */
  readonly namespace?: string;
  /** Also output the Services, with their annotations renamed. */
  readonly rewriteServices?: boolean;
  /** The metalbeacon.io CRDs (config/crd) to validate the output against; none: no schema check. */
  readonly crds?: readonly CrdLike[];
  /** The same, compiled once by {@link compileValidators} (for callers that migrate many times). */
  readonly validators?: ReadonlyMap<string, CrdValidator>;
}

/** kind -> validator for each CRD, for {@link MigrateOptions.validators}. */
export function compileValidators(crds: readonly CrdLike[]): Map<string, CrdValidator> {
  return new Map(crds.map((crd) => [crd.spec.names.kind, compileCrdValidator(crd)]));
}

/**
 * Converts MetalLB configuration (metallb.io CRs of any served version, the legacy ConfigMap,
 * the legacy AddressPool CR) into metalbeacon.io/v1beta1 objects, and plans the renames of
 * MetalLB's Service annotations. Pure: the caller reads files and CRDs. Every input object is
 * accounted for in the result; the output is checked against the CRDs and built with
 * `buildConfig` exactly as the controller would, and every problem is reported.
 */
export function migrate(documents: readonly SourceDocument[], options: MigrateOptions = {}): MigrationResult {
  const ctx = newContext(options.namespace ?? DEFAULT_NAMESPACE, options.rewriteServices ?? false);
  const sources = documents.map((doc) => ({ doc, from: sourceRef(doc) }));
  // Explicit names first, so the names generated for legacy objects never take them.
  for (const { doc, from } of sources) {
    if (!from || !isRecord(doc.value) || groupOf(from.apiVersion) !== METALLB_GROUP) continue;
    reserveName(ctx, from.kind === 'AddressPool' ? 'IPAddressPool' : from.kind, from.name);
    if (from.kind === 'BGPPeer') notePasswordSecret(ctx, from, doc.value.spec);
  }
  for (const { doc, from } of sources) {
    if (!from || !isRecord(doc.value)) {
      const unknown: SourceRef = {
        document: doc.document,
        line: doc.line,
        apiVersion: '?',
        kind: '?',
        name: '?',
        ...(doc.entry ? { entry: doc.entry } : {}),
      };
      unconverted(
        ctx,
        unknown,
        'not a Kubernetes object: expected a mapping with apiVersion, kind and metadata.name',
      );
      continue;
    }
    convertDocument(ctx, from, doc.value, doc.configLine);
  }
  for (const [name, refs] of ctx.referencedSecrets) {
    const present = ctx.objects.some((o) => o.object.kind === 'Secret' && o.object.metadata.name === name);
    if (present) continue;
    for (const from of refs) {
      warn(
        ctx,
        from,
        `Secret "${name}" is not in the input: copy it to namespace "${ctx.targetNamespace}" (type kubernetes.io/basic-auth, key "password")`,
        'spec.passwordSecret',
      );
    }
  }
  checkRequestedPools(ctx);
  const validated = validateObjects(
    ctx,
    options.validators ?? (options.crds ? compileValidators(options.crds) : undefined),
  );
  const built = buildConfig(configInputs(ctx, validated.stored), { namespace: ctx.targetNamespace });
  return {
    objects: ctx.objects,
    services: ctx.services,
    warnings: ctx.warnings,
    unconverted: ctx.unconverted,
    skipped: ctx.skipped,
    schemaErrors: validated.errors,
    configErrors: built.ok ? [] : built.errors,
    servicesUnchanged: ctx.servicesUnchanged,
  };
}

/** {@link migrate} over a YAML stream; throws MigrateInputError when the text is not YAML. */
export function migrateText(text: string, sourceName: string, options: MigrateOptions = {}): MigrationResult {
  return migrate(parseManifestStream(text, sourceName), options);
}

/** A Service that asks for a pool the converted configuration lacks would get no IP: say so. */
function checkRequestedPools(ctx: MigrationContext): void {
  const pools = new Set(
    ctx.objects
      .filter((o) => o.object.apiVersion === API_VERSION && o.object.kind === 'IPAddressPool')
      .map((o) => o.object.metadata.name),
  );
  // Only Services given without any pool: nothing to compare with.
  if (pools.size === 0) return;
  for (const plan of ctx.services) {
    for (const rename of plan.renames) {
      if (rename.to === Annotations.AddressPool && !pools.has(rename.value)) {
        warn(
          ctx,
          plan.from,
          `asks for pool "${rename.value}", which is not among the converted pools (${[...pools].sort().join(', ')}); the Service will get no IP until such a pool exists`,
          `metadata.annotations[${rename.from}]`,
        );
      }
    }
  }
}

function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

function sourceRef(doc: SourceDocument): SourceRef | undefined {
  const value = doc.value;
  if (!isRecord(value) || typeof value.apiVersion !== 'string' || typeof value.kind !== 'string')
    return undefined;
  const metadata = value.metadata;
  if (!isRecord(metadata) || typeof metadata.name !== 'string' || metadata.name === '') return undefined;
  return {
    document: doc.document,
    line: doc.line,
    apiVersion: value.apiVersion,
    kind: value.kind,
    name: metadata.name,
    ...(typeof metadata.namespace === 'string' ? { namespace: metadata.namespace } : {}),
    ...(doc.entry ? { entry: doc.entry } : {}),
  };
}

function convertDocument(
  ctx: MigrationContext,
  from: SourceRef,
  value: Record<string, unknown>,
  configLine: number | undefined,
): void {
  const group = groupOf(from.apiVersion);
  if (group === METALLB_GROUP) {
    convertMetallbResource(ctx, from, value, (spec, name, metadata) =>
      convertAddressPoolCr(ctx, from, spec, name, metadata),
    );
    return;
  }
  if (group === GROUP) {
    unconverted(ctx, from, 'already a MetalBeacon object; not part of the output, apply it as it is');
    return;
  }
  if (from.apiVersion === 'v1' && from.kind === 'ConfigMap') {
    convertConfigMap(ctx, from, value, configLine);
    return;
  }
  if (from.apiVersion === 'v1' && from.kind === 'Service') {
    convertService(ctx, from, value);
    return;
  }
  if (from.apiVersion === 'v1' && from.kind === 'Secret') {
    convertSecret(ctx, from, value);
    return;
  }
  if (INSTALLATION_KINDS.has(from.kind)) {
    // What `kubectl get all,... -n metallb-system -o yaml` also prints: not configuration.
    ctx.skipped.push({
      from,
      reason: `${from.kind} belongs to an installation, not to MetalLB's configuration; MetalBeacon installs its own (deploy/)`,
    });
    return;
  }
  unconverted(ctx, from, `${from.apiVersion} ${from.kind} is not MetalLB configuration; nothing to convert`);
}

/** Kinds of an installation (workloads, RBAC, webhooks, CRDs, monitoring, run-time objects). */
const INSTALLATION_KINDS = new Set([
  'Namespace',
  'ServiceAccount',
  'Role',
  'RoleBinding',
  'ClusterRole',
  'ClusterRoleBinding',
  'Deployment',
  'DaemonSet',
  'ReplicaSet',
  'Pod',
  'PodDisruptionBudget',
  'NetworkPolicy',
  'PodSecurityPolicy',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
  'CustomResourceDefinition',
  'ServiceMonitor',
  'PodMonitor',
  'PrometheusRule',
  'Endpoints',
  'EndpointSlice',
  'Event',
  'Lease',
]);

function convertConfigMap(
  ctx: MigrationContext,
  from: SourceRef,
  value: Record<string, unknown>,
  configLine: number | undefined,
): void {
  const data = isRecord(value.data) ? value.data : {};
  if (Object.hasOwn(data, 'config')) {
    convertLegacyConfigMap(ctx, from, data, configLine);
  } else if (Object.hasOwn(data, 'excludel2.yaml')) {
    unconverted(
      ctx,
      from,
      "MetalLB's list of interfaces never to announce on has no MetalBeacon equivalent; list the interfaces to use in L2Advertisement.spec.interfaces",
      'data[excludel2.yaml]',
    );
  } else if (Object.hasOwn(data, 'extras')) {
    unconverted(
      ctx,
      from,
      "raw FRR configuration for MetalLB's FRR mode; MetalBeacon has its own BGP speaker and no equivalent",
      'data.extras',
    );
  } else if (from.name === 'kube-root-ca.crt') {
    ctx.skipped.push({ from, reason: 'the cluster CA bundle Kubernetes puts in every namespace' });
  } else {
    unconverted(ctx, from, 'not a MetalLB configuration ConfigMap (it has no data.config)');
  }
}

/** A Secret a BGPPeer's passwordSecret names moves with the peer; others are not MetalBeacon's. */
function convertSecret(ctx: MigrationContext, from: SourceRef, value: Record<string, unknown>): void {
  if (!ctx.referencedSecrets.has(from.name)) {
    const reason =
      from.name === 'memberlist'
        ? "MetalLB's memberlist key; MetalBeacon's installation creates its own membership Secret"
        : 'no BGPPeer of the input refers to this Secret (passwordSecret); MetalBeacon does not need it';
    ctx.skipped.push({ from, reason });
    return;
  }
  const metadata = isRecord(value.metadata) ? value.metadata : {};
  const out: Record<string, unknown> = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: from.name,
      namespace: ctx.targetNamespace,
      ...(isRecord(metadata.labels) ? { labels: structuredClone(metadata.labels) } : {}),
    },
  };
  for (const key of ['type', 'data', 'stringData', 'immutable']) {
    if (value[key] !== undefined) out[key] = structuredClone(value[key]);
  }
  emit(ctx, from, out as unknown as Manifest);
}

/**
 * Removes from `object` every key its pruned copy (as the API server would store it) lacks.
 * Pruning only removes keys and defaulting only adds them, so this drops exactly the unknown
 * fields, whatever characters their names contain.
 */
function removePruned(object: unknown, pruned: unknown): void {
  if (Array.isArray(object) && Array.isArray(pruned)) {
    object.forEach((item, i) => {
      removePruned(item, pruned[i]);
    });
  } else if (isRecord(object) && isRecord(pruned)) {
    for (const key of Object.keys(object)) {
      if (Object.hasOwn(pruned, key)) removePruned(object[key], pruned[key]);
      else delete object[key];
    }
  }
}

/**
 * Checks each metalbeacon.io object against its CRD. Fields the schema does not know are
 * removed from the output (`kubectl apply` would refuse them) and reported; violations are
 * reported and the object is kept. Returns what the API server would store (defaults applied).
 */
function validateObjects(
  ctx: MigrationContext,
  validators: ReadonlyMap<string, CrdValidator> | undefined,
): { stored: Map<Manifest, unknown>; errors: SchemaIssue[] } {
  const stored = new Map<Manifest, unknown>();
  const errors: SchemaIssue[] = [];
  if (!validators) return { stored, errors };
  for (const { from, object } of ctx.objects) {
    if (object.apiVersion !== API_VERSION) continue;
    const validate = validators.get(object.kind);
    const base = { from, kind: object.kind, name: object.metadata.name };
    if (!validate) {
      errors.push({ ...base, field: 'kind', message: `no CRD for kind ${object.kind}` });
      continue;
    }
    let result = validate(object);
    if (result.unknownFields.length > 0) {
      removePruned(object, result.object);
      for (const field of result.unknownFields) {
        unconverted(
          ctx,
          from,
          `unknown field in ${object.kind} ${object.metadata.name}: not in the MetalBeacon schema; dropped`,
          field,
        );
      }
      result = validate(object);
    }
    for (const e of result.errors) errors.push({ ...base, field: e.field, message: e.message });
    if (!DNS_SUBDOMAIN.test(object.metadata.name) || object.metadata.name.length > 253) {
      errors.push({
        ...base,
        field: 'metadata.name',
        message: `"${object.metadata.name}" is not a valid object name (lower case letters, digits, '-' and '.', starting and ending with a letter or digit)`,
      });
    }
    stored.set(object, result.object);
  }
  return { stored, errors };
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * What the controller will read of the produced objects: our kinds and core Secrets (the
 * controller reads Nodes and Namespaces from the cluster, not from these files), as stored.
 */
function configInputs(ctx: MigrationContext, stored: Map<Manifest, unknown>): ConfigInputs {
  const read = ctx.objects
    .map(({ object }) => object)
    .filter(
      (o) => o.kind !== 'Node' && o.kind !== 'Namespace' && (o.kind === 'Secret') === (o.apiVersion === 'v1'),
    )
    .map((o) => (stored.get(o) ?? o) as { kind?: unknown });
  return configInputsOf(read);
}
