import assert from 'node:assert/strict';
// biome-ignore lint/style/noRestrictedImports: the test reads the shipped manifests in config/rbac
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { CONTROLLER_LEASE_NAME, DEFAULT_NAMESPACE, GROUP, ServiceAccounts } from './names.ts';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}
interface Manifest {
  kind: string;
  metadata: { name: string; namespace?: string };
  rules?: Rule[];
  roleRef?: { kind: string; name: string };
  subjects?: { kind: string; name: string; namespace: string }[];
}

const DIR = new URL('../../config/rbac/', import.meta.url);
const manifests: Manifest[] = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) => parseAllDocuments(readFileSync(new URL(f, DIR), 'utf8')).map((d) => d.toJS() as Manifest));

interface Request {
  group: string;
  resource: string;
  verb: string;
  /** undefined: cluster-wide (or another namespace) */
  namespace?: string;
  name?: string;
}

/** Kubernetes RBAC evaluation for one ServiceAccount over the manifests: any bound rule allows. */
function allowed(serviceAccount: string, req: Request): boolean {
  const bindings = manifests.filter(
    (m) =>
      (m.kind === 'ClusterRoleBinding' || m.kind === 'RoleBinding') &&
      m.subjects?.some(
        (s) => s.kind === 'ServiceAccount' && s.name === serviceAccount && s.namespace === DEFAULT_NAMESPACE,
      ),
  );
  return bindings.some((binding) => {
    if (binding.kind === 'RoleBinding' && req.namespace !== binding.metadata.namespace) return false;
    const role = manifests.find(
      (m) =>
        m.kind === binding.roleRef?.kind &&
        m.metadata.name === binding.roleRef.name &&
        (m.kind === 'ClusterRole' || m.metadata.namespace === binding.metadata.namespace),
    );
    return (role?.rules ?? []).some(
      (r) =>
        r.apiGroups.includes(req.group) &&
        r.resources.includes(req.resource) &&
        r.verbs.includes(req.verb) &&
        (!r.resourceNames || (req.name !== undefined && r.resourceNames.includes(req.name))),
    );
  });
}

const NS = DEFAULT_NAMESPACE;
const CONFIG_KINDS = [
  'ipaddresspools',
  'l2advertisements',
  'bgpadvertisements',
  'bgppeers',
  'communities',
  'bfdprofiles',
];
const read = (group: string, resource: string, namespace?: string): Request[] =>
  ['get', 'list', 'watch'].map((verb) => ({ group, resource, verb, ...(namespace ? { namespace } : {}) }));

describe('config/rbac', () => {
  it('uses no wildcards and binds only our two ServiceAccounts', () => {
    for (const m of manifests) {
      for (const r of m.rules ?? []) {
        for (const list of [r.apiGroups, r.resources, r.verbs])
          assert.ok(!list.includes('*'), `${m.kind} ${m.metadata.name}`);
      }
      for (const s of m.subjects ?? []) {
        assert.ok(Object.values(ServiceAccounts).includes(s.name as never), s.name);
        assert.ok(
          manifests.some(
            (x) => x.kind === 'ServiceAccount' && x.metadata.name === s.name && x.metadata.namespace === NS,
          ),
        );
      }
    }
  });

  it('grants the controller what it needs', () => {
    const needs: Request[] = [
      ...read('', 'services'),
      { group: '', resource: 'services', verb: 'update' },
      { group: '', resource: 'services/status', verb: 'update' },
      { group: '', resource: 'services/status', verb: 'patch' },
      ...read('', 'namespaces'),
      { group: '', resource: 'events', verb: 'create', namespace: 'default' },
      { group: 'events.k8s.io', resource: 'events', verb: 'create', namespace: 'default' },
      ...CONFIG_KINDS.flatMap((k) => read(GROUP, k, NS)),
      { group: GROUP, resource: 'ipaddresspools/status', verb: 'update', namespace: NS },
      ...read('', 'secrets', NS),
      { group: 'coordination.k8s.io', resource: 'leases', verb: 'create', namespace: NS },
      {
        group: 'coordination.k8s.io',
        resource: 'leases',
        verb: 'get',
        namespace: NS,
        name: CONTROLLER_LEASE_NAME,
      },
      {
        group: 'coordination.k8s.io',
        resource: 'leases',
        verb: 'update',
        namespace: NS,
        name: CONTROLLER_LEASE_NAME,
      },
    ];
    for (const req of needs) assert.ok(allowed(ServiceAccounts.Controller, req), JSON.stringify(req));
  });

  it('grants the speaker what it needs', () => {
    const needs: Request[] = [
      ...read('', 'services'),
      ...read('discovery.k8s.io', 'endpointslices'),
      ...read('', 'nodes'),
      ...read('', 'namespaces'),
      ...read('', 'pods', NS),
      ...read('', 'secrets', NS),
      ...CONFIG_KINDS.flatMap((k) => read(GROUP, k, NS)),
      ...['create', 'update', 'patch', 'delete', 'list', 'watch'].flatMap((verb) =>
        ['servicel2statuses', 'servicebgpstatuses', 'bgpsessionstates'].map((resource) => ({
          group: GROUP,
          resource,
          verb,
          namespace: NS,
        })),
      ),
      { group: GROUP, resource: 'servicel2statuses/status', verb: 'update', namespace: NS },
      { group: GROUP, resource: 'bgpsessionstates/status', verb: 'patch', namespace: NS },
      // The membership Secret, when the install did not pre-create it (speaker contract).
      { group: '', resource: 'secrets', verb: 'create', namespace: NS },
      { group: '', resource: 'events', verb: 'create', namespace: 'default' },
    ];
    for (const req of needs) assert.ok(allowed(ServiceAccounts.Speaker, req), JSON.stringify(req));
  });

  it('grants nothing beyond least privilege', () => {
    const forbidden: [string, Request][] = [
      [ServiceAccounts.Speaker, { group: '', resource: 'services', verb: 'update' }],
      [ServiceAccounts.Speaker, { group: '', resource: 'services/status', verb: 'patch' }],
      [
        ServiceAccounts.Speaker,
        { group: GROUP, resource: 'ipaddresspools/status', verb: 'update', namespace: NS },
      ],
      [
        ServiceAccounts.Speaker,
        {
          group: 'coordination.k8s.io',
          resource: 'leases',
          verb: 'update',
          namespace: NS,
          name: CONTROLLER_LEASE_NAME,
        },
      ],
      [
        ServiceAccounts.Controller,
        { group: GROUP, resource: 'servicel2statuses', verb: 'create', namespace: NS },
      ],
      [
        ServiceAccounts.Controller,
        { group: GROUP, resource: 'ipaddresspools', verb: 'update', namespace: NS },
      ],
      [
        ServiceAccounts.Controller,
        {
          group: 'coordination.k8s.io',
          resource: 'leases',
          verb: 'update',
          namespace: NS,
          name: 'someone-else',
        },
      ],
      [ServiceAccounts.Controller, { group: '', resource: 'services', verb: 'delete' }],
      [ServiceAccounts.Controller, { group: '', resource: 'nodes', verb: 'update' }],
      // Secrets are readable in our namespace only.
      [ServiceAccounts.Controller, { group: '', resource: 'secrets', verb: 'get', namespace: 'default' }],
      [ServiceAccounts.Speaker, { group: '', resource: 'secrets', verb: 'list' }],
      [ServiceAccounts.Speaker, { group: '', resource: 'secrets', verb: 'create', namespace: 'default' }],
      [ServiceAccounts.Speaker, { group: '', resource: 'secrets', verb: 'update', namespace: NS }],
      [ServiceAccounts.Speaker, { group: '', resource: 'pods', verb: 'list', namespace: 'default' }],
    ];
    for (const [sa, req] of forbidden) assert.equal(allowed(sa, req), false, `${sa} ${JSON.stringify(req)}`);
  });
});
