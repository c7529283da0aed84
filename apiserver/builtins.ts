import { eventFromCore, eventToCore } from './event-conversion.ts';
import { GENERIC_SHAPE, pruneUnknown, SERVICE_SHAPE } from './known-fields.ts';
import type { KubeObject, NameRule, PrinterColumn, ResourceType } from './types.ts';

/**
 * The built-in resource types the server starts with. Generic storage serves them all; this
 * file only says what is different per type (scope, status subresource, short names, table
 * columns, field selectors), as the real server's per-type strategies and printers do.
 * Further groups (apps/v1, rbac, policy) are one more entry each.
 */

// biome-ignore lint/suspicious/noExplicitAny: printers read loosely typed JSON of a dozen kinds; a missing field prints as <none>
type Obj = KubeObject & Record<string, any>;

const name: PrinterColumn = { name: 'Name', type: 'string', format: 'name', jsonPath: '.metadata.name' };
const age: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };
const col = (n: string, priority = 0): PrinterColumn => ({ name: n, type: 'string', jsonPath: '', priority });

const orNone = (v: unknown): string =>
  v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0)
    ? '<none>'
    : Array.isArray(v)
      ? v.join(',')
      : String(v);

/** `k=v,k=v` sorted by key, as labels.FormatLabels prints a selector. */
function formatMap(m: Record<string, string> | undefined): string {
  if (!m || Object.keys(m).length === 0) return '<none>';
  return Object.keys(m)
    .sort()
    .map((k) => `${k}=${m[k]}`)
    .join(',');
}

function serviceCells(o: Obj): Record<string, unknown> {
  const spec = o.spec ?? {};
  const type = spec.type ?? 'ClusterIP';
  const externalIPs: string[] = spec.externalIPs ?? [];
  let external: string;
  if (type === 'LoadBalancer') {
    const ingress: string[] = (o.status?.loadBalancer?.ingress ?? []).map(
      (i: { ip?: string; hostname?: string }) => i.ip ?? i.hostname ?? '',
    );
    const all = [...externalIPs, ...ingress];
    external = all.length > 0 ? all.join(',') : '<pending>';
  } else if (type === 'ExternalName') external = spec.externalName ?? '<none>';
  else external = orNone(externalIPs);
  const ports = (spec.ports ?? []) as { port: number; nodePort?: number; protocol?: string }[];
  const portText =
    ports.length === 0
      ? '<none>'
      : ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',');
  return {
    Type: type,
    'Cluster-IP': orNone(spec.clusterIP),
    'External-IP': external,
    'Port(s)': portText,
    Selector: formatMap(spec.selector),
  };
}

function nodeCells(o: Obj): Record<string, unknown> {
  const ready = (o.status?.conditions ?? []).find((c: { type: string }) => c.type === 'Ready');
  let status = ready?.status === 'True' ? 'Ready' : ready?.status === 'False' ? 'NotReady' : 'Unknown';
  if (o.spec?.unschedulable) status += ',SchedulingDisabled';
  const roles = Object.keys(o.metadata.labels ?? {})
    .filter((l) => l.startsWith('node-role.kubernetes.io/'))
    .map((l) => l.slice('node-role.kubernetes.io/'.length))
    .sort();
  const addr = (t: string) =>
    orNone(
      (o.status?.addresses ?? [])
        .filter((a: { type: string }) => a.type === t)
        .map((a: { address: string }) => a.address),
    );
  const info = o.status?.nodeInfo ?? {};
  return {
    Status: status,
    Roles: orNone(roles),
    Version: info.kubeletVersion ?? '',
    'Internal-IP': addr('InternalIP'),
    'External-IP': addr('ExternalIP'),
    'OS-Image': info.osImage ?? '<unknown>',
    'Kernel-Version': info.kernelVersion ?? '<unknown>',
    'Container-Runtime': info.containerRuntimeVersion ?? '<unknown>',
  };
}

function podCells(o: Obj): Record<string, unknown> {
  const containers = o.spec?.containers ?? [];
  const statuses = o.status?.containerStatuses ?? [];
  const ready = statuses.filter((s: { ready?: boolean }) => s.ready).length;
  const restarts = statuses.reduce((n: number, s: { restartCount?: number }) => n + (s.restartCount ?? 0), 0);
  return {
    Ready: `${ready}/${containers.length}`,
    Status: o.metadata.deletionTimestamp ? 'Terminating' : (o.status?.reason ?? o.status?.phase ?? 'Pending'),
    Restarts: restarts,
    IP: orNone(o.status?.podIP),
    Node: orNone(o.spec?.nodeName),
    'Nominated Node': orNone(o.status?.nominatedNodeName),
    'Readiness Gates': '<none>',
  };
}

function endpointsCells(o: Obj): Record<string, unknown> {
  const parts: string[] = [];
  for (const subset of o.subsets ?? []) {
    for (const a of subset.addresses ?? []) {
      for (const p of subset.ports ?? [{}]) parts.push(p.port ? `${a.ip}:${p.port}` : a.ip);
    }
  }
  return { Endpoints: parts.length === 0 ? '<none>' : parts.join(',') };
}

function sliceCells(o: Obj): Record<string, unknown> {
  const ports = (o.ports ?? []).map((p: { port?: number }) => p.port ?? '').join(',');
  const addresses = (o.endpoints ?? []).flatMap((e: { addresses: string[] }) => e.addresses);
  return { AddressType: o.addressType, Ports: orNone(ports), Endpoints: orNone(addresses) };
}

function eventCells(o: Obj): Record<string, unknown> {
  const io = o.involvedObject ?? o.regarding ?? {};
  return {
    Type: o.type ?? '',
    Reason: o.reason ?? '',
    Object: `${String(io.kind ?? '').toLowerCase()}/${io.name ?? ''}`,
    Message: o.message ?? o.note ?? '',
  };
}

interface Spec {
  group?: string;
  version?: string;
  resource: string;
  kind: string;
  namespaced: boolean;
  hasStatus?: boolean;
  shortNames?: string[];
  categories?: string[];
  columns?: PrinterColumn[];
  cells?: (o: Obj) => Record<string, unknown>;
  fieldSelectors?: Record<string, (o: Obj) => string | undefined>;
  nameRule?: NameRule;
  tracksGeneration?: boolean;
}

/** An RBAC kind: its resource is the plural of the kind, names are path segments. */
function rbacSpec(kind: string, namespaced: boolean, table: Pick<Spec, 'columns' | 'cells'>): Spec {
  return {
    group: 'rbac.authorization.k8s.io',
    resource: `${kind.toLowerCase()}s`,
    kind,
    nameRule: 'pathSegment',
    namespaced,
    ...table,
  };
}

/** A field selector's view of a value: its text, '' when absent. */
const selectorText = (v: unknown): string => (v == null ? '' : String(v));

/** The field selectors `a.b` for each path: the value at that path. */
function selectorsAt(...paths: string[]): Record<string, (o: Obj) => string> {
  return Object.fromEntries(
    paths.map((path) => {
      const steps = path.split('.');
      const at = (o: Obj) =>
        selectorText(steps.reduce<unknown>((v, step) => (v as Obj | undefined)?.[step], o));
      return [path, at];
    }),
  );
}

/**
 * The selectors `<prefix>.<field>` of the object an Event is about, read from `involvedObject`
 * (core) or `regarding` (events.k8s.io), whichever the stored Event has.
 */
function involvedSelectors(prefix: string, fields: string[]): Record<string, (o: Obj) => string> {
  return Object.fromEntries(
    fields.map((field) => {
      const at = (o: Obj) => selectorText((o.involvedObject ?? o.regarding)?.[field]);
      return [`${prefix}.${field}`, at];
    }),
  );
}

/** kubectl's Event table; the API groups keep the time of the last sighting in different fields. */
const eventColumns = (lastSeenPath: string): PrinterColumn[] => [
  { name: 'Last Seen', type: 'date', jsonPath: lastSeenPath },
  col('Type'),
  col('Reason'),
  col('Object'),
  col('Message'),
];

const SPECS: Spec[] = [
  {
    resource: 'services',
    kind: 'Service',
    nameRule: 'label1035',
    namespaced: true,
    hasStatus: true,
    shortNames: ['svc'],
    categories: ['all'],
    columns: [
      name,
      col('Type'),
      col('Cluster-IP'),
      col('External-IP'),
      col('Port(s)'),
      age,
      col('Selector', 1),
    ],
    cells: serviceCells,
    fieldSelectors: selectorsAt('spec.clusterIP', 'spec.type'),
  },
  {
    resource: 'endpoints',
    kind: 'Endpoints',
    namespaced: true,
    shortNames: ['ep'],
    columns: [name, col('Endpoints'), age],
    cells: endpointsCells,
  },
  {
    resource: 'nodes',
    kind: 'Node',
    namespaced: false,
    hasStatus: true,
    shortNames: ['no'],
    columns: [
      name,
      col('Status'),
      col('Roles'),
      age,
      col('Version'),
      col('Internal-IP', 1),
      col('External-IP', 1),
      col('OS-Image', 1),
      col('Kernel-Version', 1),
      col('Container-Runtime', 1),
    ],
    cells: nodeCells,
    fieldSelectors: { 'spec.unschedulable': (o) => String(o.spec?.unschedulable ?? false) },
  },
  {
    resource: 'namespaces',
    kind: 'Namespace',
    nameRule: 'label1123',
    namespaced: false,
    hasStatus: true,
    shortNames: ['ns'],
    columns: [name, col('Status'), age],
    cells: (o) => ({ Status: o.status?.phase ?? 'Active' }),
    fieldSelectors: selectorsAt('status.phase'),
  },
  {
    resource: 'secrets',
    kind: 'Secret',
    namespaced: true,
    columns: [name, col('Type'), col('Data'), age],
    cells: (o) => ({ Type: o.type ?? 'Opaque', Data: Object.keys(o.data ?? {}).length }),
    fieldSelectors: selectorsAt('type'),
  },
  {
    resource: 'configmaps',
    kind: 'ConfigMap',
    namespaced: true,
    shortNames: ['cm'],
    columns: [name, col('Data'), age],
    cells: (o) => ({ Data: Object.keys(o.data ?? {}).length + Object.keys(o.binaryData ?? {}).length }),
  },
  {
    resource: 'serviceaccounts',
    kind: 'ServiceAccount',
    namespaced: true,
    shortNames: ['sa'],
    columns: [name, col('Secrets'), age],
    cells: (o) => ({ Secrets: (o.secrets ?? []).length }),
  },
  {
    resource: 'pods',
    tracksGeneration: true,
    kind: 'Pod',
    namespaced: true,
    hasStatus: true,
    shortNames: ['po'],
    categories: ['all'],
    columns: [
      name,
      col('Ready'),
      col('Status'),
      col('Restarts'),
      age,
      col('IP', 1),
      col('Node', 1),
      col('Nominated Node', 1),
      col('Readiness Gates', 1),
    ],
    cells: podCells,
    fieldSelectors: selectorsAt('spec.nodeName', 'status.phase', 'status.podIP'),
  },
  {
    resource: 'events',
    kind: 'Event',
    namespaced: true,
    shortNames: ['ev'],
    columns: eventColumns('.lastTimestamp'),
    cells: eventCells,
    fieldSelectors: {
      ...involvedSelectors('involvedObject', [
        'kind',
        'name',
        'namespace',
        'uid',
        'apiVersion',
        'resourceVersion',
        'fieldPath',
      ]),
      ...selectorsAt('reason', 'type'),
      source: (o) => o.source?.component ?? '',
    },
  },
  {
    group: 'discovery.k8s.io',
    resource: 'endpointslices',
    kind: 'EndpointSlice',
    namespaced: true,
    columns: [name, col('AddressType'), col('Ports'), col('Endpoints'), age],
    cells: sliceCells,
  },
  {
    group: 'coordination.k8s.io',
    resource: 'leases',
    kind: 'Lease',
    namespaced: true,
    columns: [name, col('Holder'), age],
    cells: (o) => ({ Holder: o.spec?.holderIdentity ?? '' }),
  },
  {
    group: 'events.k8s.io',
    resource: 'events',
    kind: 'Event',
    namespaced: true,
    shortNames: ['ev'],
    columns: eventColumns('.eventTime'),
    cells: eventCells,
    fieldSelectors: {
      ...involvedSelectors('regarding', ['kind', 'name', 'namespace']),
      ...selectorsAt('reason', 'type'),
    },
  },
  {
    group: 'apps',
    resource: 'deployments',
    tracksGeneration: true,
    kind: 'Deployment',
    namespaced: true,
    hasStatus: true,
    shortNames: ['deploy'],
    categories: ['all'],
    columns: [name, col('Ready'), col('Up-to-date'), col('Available'), age],
    cells: (o) => ({
      Ready: `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 1}`,
      'Up-to-date': o.status?.updatedReplicas ?? 0,
      Available: o.status?.availableReplicas ?? 0,
    }),
  },
  {
    group: 'apps',
    resource: 'daemonsets',
    tracksGeneration: true,
    kind: 'DaemonSet',
    namespaced: true,
    hasStatus: true,
    shortNames: ['ds'],
    categories: ['all'],
    columns: [
      name,
      col('Desired'),
      col('Current'),
      col('Ready'),
      col('Up-to-date'),
      col('Available'),
      col('Node Selector'),
      age,
    ],
    cells: (o) => ({
      Desired: o.status?.desiredNumberScheduled ?? 0,
      Current: o.status?.currentNumberScheduled ?? 0,
      Ready: o.status?.numberReady ?? 0,
      'Up-to-date': o.status?.updatedNumberScheduled ?? 0,
      Available: o.status?.numberAvailable ?? 0,
      'Node Selector': formatMap(o.spec?.template?.spec?.nodeSelector),
    }),
  },
  {
    // The kustomize install's one-shot membership-key Job; stored, never run (no kubelet).
    group: 'batch',
    resource: 'jobs',
    tracksGeneration: true,
    kind: 'Job',
    namespaced: true,
    hasStatus: true,
    categories: ['all'],
    columns: [name, col('Status'), col('Completions'), age],
    cells: (o) => ({
      Status: o.status?.succeeded ? 'Complete' : 'Running',
      Completions: `${o.status?.succeeded ?? 0}/${o.spec?.completions ?? 1}`,
    }),
  },
  ...(['Role', 'ClusterRole'] as const).map((kind) =>
    rbacSpec(kind, kind === 'Role', {
      columns: [name, { name: 'Created At', type: 'date', jsonPath: '.metadata.creationTimestamp' }],
    }),
  ),
  ...(['RoleBinding', 'ClusterRoleBinding'] as const).map((kind) =>
    rbacSpec(kind, kind === 'RoleBinding', {
      columns: [name, col('Role'), age, col('Users', 1), col('Groups', 1), col('ServiceAccounts', 1)],
      cells: (o) => {
        const subjects = (o.subjects ?? []) as { kind: string; name: string; namespace?: string }[];
        const of = (k: string) =>
          orNone(
            subjects
              .filter((x) => x.kind === k)
              .map((x) => (x.namespace ? `${x.namespace}/${x.name}` : x.name)),
          );
        return {
          Role: `${o.roleRef?.kind ?? ''}/${o.roleRef?.name ?? ''}`,
          Users: of('User'),
          Groups: of('Group'),
          ServiceAccounts: of('ServiceAccount'),
        };
      },
    }),
  ),
  {
    group: 'policy',
    resource: 'poddisruptionbudgets',
    tracksGeneration: true,
    kind: 'PodDisruptionBudget',
    namespaced: true,
    hasStatus: true,
    shortNames: ['pdb'],
    columns: [name, col('Min Available'), col('Max Unavailable'), col('Allowed Disruptions'), age],
    cells: (o) => ({
      'Min Available': o.spec?.minAvailable ?? 'N/A',
      'Max Unavailable': o.spec?.maxUnavailable ?? 'N/A',
      'Allowed Disruptions': o.status?.disruptionsAllowed ?? 0,
    }),
  },
  {
    // Not stored: a POST answers "allowed" (the server does no authorization), so
    // `kubectl auth can-i` works as against a cluster where the user may do everything.
    group: 'authorization.k8s.io',
    resource: 'selfsubjectaccessreviews',
    kind: 'SelfSubjectAccessReview',
    namespaced: false,
  },
  {
    group: 'apiextensions.k8s.io',
    resource: 'customresourcedefinitions',
    tracksGeneration: true,
    kind: 'CustomResourceDefinition',
    namespaced: false,
    hasStatus: true,
    shortNames: ['crd', 'crds'],
    categories: ['api-extensions'],
    columns: [name, { name: 'Created At', type: 'date', jsonPath: '.metadata.creationTimestamp' }],
    cells: (o) => ({ 'Created At': o.metadata.creationTimestamp }),
  },
];

/** Fresh ResourceType records for the built-ins (a new array per server: no shared state). */
export function builtinTypes(): ResourceType[] {
  return SPECS.map(
    (s): ResourceType => ({
      group: s.group ?? '',
      version: s.version ?? 'v1',
      resource: s.resource,
      singular: s.kind.toLowerCase(),
      kind: s.kind,
      listKind: `${s.kind}List`,
      namespaced: s.namespaced,
      hasStatus: s.hasStatus ?? false,
      shortNames: s.shortNames ?? [],
      categories: s.categories ?? [],
      columns: s.columns ?? [name, age],
      fieldSelectors: (s.fieldSelectors ?? {}) as ResourceType['fieldSelectors'],
      ...(s.cells ? { cells: s.cells as ResourceType['cells'] } : {}),
      ...(s.nameRule ? { nameRule: s.nameRule } : {}),
      prune: (obj: KubeObject) =>
        pruneUnknown(obj, s.kind === 'Service' && !s.group ? SERVICE_SHAPE : GENERIC_SHAPE),
      ...(s.group === 'events.k8s.io'
        ? { storage: { key: '/events', toStorage: eventToCore, fromStorage: eventFromCore } }
        : {}),
      custom: false,
      tracksGeneration: s.tracksGeneration ?? false,
    }),
  );
}
