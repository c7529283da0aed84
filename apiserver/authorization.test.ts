import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { AuditEntry } from './authorization.ts';
import { type ApiServerHandle, startApiServer } from './server.ts';

/** RBAC enforced for the ServiceAccount tokens the server issues; no credentials stays the administrator. */

let server: ApiServerHandle;
let token: string;
const audit: AuditEntry[] = [];

before(async () => {
  server = await startApiServer({ onAudit: (entry) => audit.push(entry) });
  server.applyObjects([
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'mb' } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'key', namespace: 'mb' }, data: { k: 'YQ==' } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'other', namespace: 'mb' }, data: { k: 'Yg==' } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'reader', namespace: 'mb' },
      rules: [{ apiGroups: [''], resources: ['secrets'], resourceNames: ['key'], verbs: ['get'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'reader', namespace: 'mb' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: 'mb' }],
    },
  ] as never);
  const kubeconfig = JSON.parse(server.serviceAccountKubeconfig('mb', 'reader')) as {
    users: { user: { token: string } }[];
  };
  token = kubeconfig.users[0]!.user.token;
});
after(() => server.stop());

async function call(method: string, path: string, auth: string | undefined, body?: unknown) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      ...(auth ? { authorization: auth } : {}),
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return {
    status: res.status,
    body: (await res.json()) as { reason?: string; message?: string; status?: unknown },
  };
}

test('a ServiceAccount gets exactly what its Role grants: the named Secret, nothing else', async () => {
  assert.equal((await call('GET', '/api/v1/namespaces/mb/secrets/key', `Bearer ${token}`)).status, 200);
  const other = await call('GET', '/api/v1/namespaces/mb/secrets/other', `Bearer ${token}`);
  assert.equal(other.status, 403);
  assert.equal(other.body.reason, 'Forbidden');
  assert.match(
    other.body.message ?? '',
    /cannot get resource "secrets" in API group "" in the namespace "mb"/,
  );
  assert.equal((await call('GET', '/api/v1/namespaces/mb/secrets', `Bearer ${token}`)).status, 403);
  assert.equal(
    (await call('POST', '/api/v1/namespaces/mb/secrets', `Bearer ${token}`, { metadata: { name: 'x' } }))
      .status,
    403,
  );
  assert.equal((await call('GET', '/version', `Bearer ${token}`)).status, 200);
});

test('each decision is reported with the attributes RBAC saw', () => {
  const denied = audit.find((e) => !e.allowed && e.attributes.verb === 'create');
  assert.ok(denied);
  assert.equal(denied.user, 'system:serviceaccount:mb:reader');
  assert.deepEqual(
    [denied.attributes.apiGroup, denied.attributes.resource, denied.attributes.namespace],
    ['', 'secrets', 'mb'],
  );
  const allowed = audit.find((e) => e.allowed && e.attributes.name === 'key');
  assert.match(allowed?.reason ?? '', /RoleBinding mb\/reader of Role reader/);
});

test('an unknown token is 401; no credentials is the administrator', async () => {
  assert.equal((await call('GET', '/api/v1/namespaces/mb/secrets', 'Bearer forged')).status, 401);
  assert.equal((await call('GET', '/api/v1/namespaces/mb/secrets', undefined)).status, 200);
});

test('SelfSubjectAccessReview answers with RBAC for a ServiceAccount', async () => {
  const review = (resourceAttributes: Record<string, string>) =>
    call('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', `Bearer ${token}`, {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes },
    });
  const yes = await review({ verb: 'get', resource: 'secrets', namespace: 'mb', name: 'key' });
  const no = await review({ verb: 'list', resource: 'secrets', namespace: 'mb' });
  assert.equal((yes.body.status as { allowed: boolean }).allowed, true);
  assert.equal((no.body.status as { allowed: boolean }).allowed, false);
});
