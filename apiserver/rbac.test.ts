import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { authorize, type PolicyRule, type RbacPolicy, ruleAllows, serviceAccountUser } from './rbac.ts';
import { type RequestAttributes, requestAttributes } from './request-attributes.ts';

const at = (method: string, url: string): RequestAttributes => {
  const parsed = new URL(url, 'http://x');
  return requestAttributes(method, parsed.pathname, parsed.searchParams);
};

describe('requestAttributes', () => {
  // [method, URL, verb, group, resource, subresource, namespace, name]
  const table: [string, string, string, string, string, string, string, string][] = [
    ['GET', '/api/v1/services', 'list', '', 'services', '', '', ''],
    ['GET', '/api/v1/services?watch=true&resourceVersion=5', 'watch', '', 'services', '', '', ''],
    ['GET', '/api/v1/watch/namespaces/ns/pods', 'watch', '', 'pods', '', 'ns', ''],
    ['GET', '/api/v1/namespaces/ns/secrets/key', 'get', '', 'secrets', '', 'ns', 'key'],
    [
      'GET',
      '/api/v1/namespaces/ns/secrets?fieldSelector=metadata.name%3Dkey',
      'list',
      '',
      'secrets',
      '',
      'ns',
      'key',
    ],
    ['POST', '/api/v1/namespaces/ns/events', 'create', '', 'events', '', 'ns', ''],
    [
      'PUT',
      '/apis/coordination.k8s.io/v1/namespaces/ns/leases/l',
      'update',
      'coordination.k8s.io',
      'leases',
      '',
      'ns',
      'l',
    ],
    ['PATCH', '/api/v1/namespaces/ns/services/s/status', 'patch', '', 'services', 'status', 'ns', 's'],
    [
      'DELETE',
      '/apis/metalbeacon.io/v1beta1/namespaces/ns/servicel2statuses/x',
      'delete',
      'metalbeacon.io',
      'servicel2statuses',
      '',
      'ns',
      'x',
    ],
    ['DELETE', '/api/v1/namespaces/ns/configmaps', 'deletecollection', '', 'configmaps', '', 'ns', ''],
    ['GET', '/api/v1/namespaces/team', 'get', '', 'namespaces', '', 'team', 'team'],
    ['PUT', '/api/v1/namespaces/team/finalize', 'update', '', 'namespaces', 'finalize', 'team', 'team'],
  ];
  for (const [method, url, verb, group, resource, sub, ns, name] of table) {
    test(`${method} ${url}`, () => {
      const a = at(method, url);
      assert.deepEqual(
        [a.resourceRequest, a.verb, a.apiGroup, a.resource, a.subresource, a.namespace, a.name],
        [true, verb, group, resource, sub, ns, name],
      );
    });
  }
  test('discovery and /version are non-resource requests matched by path', () => {
    for (const url of ['/version', '/apis', '/api/v1', '/apis/metalbeacon.io/v1beta1', '/openapi/v3']) {
      const a = at('GET', url);
      assert.equal(a.resourceRequest, false, url);
      assert.equal(a.verb, 'get');
    }
  });
});

describe('ruleAllows', () => {
  const get = at('GET', '/api/v1/namespaces/ns/secrets/key');
  test('resourceNames limit a rule to the named objects; a list names none', () => {
    const rule: PolicyRule = {
      apiGroups: [''],
      resources: ['secrets'],
      verbs: ['get', 'list'],
      resourceNames: ['key'],
    };
    assert.equal(ruleAllows(rule, get), true);
    assert.equal(ruleAllows(rule, at('GET', '/api/v1/namespaces/ns/secrets/other')), false);
    assert.equal(ruleAllows(rule, at('GET', '/api/v1/namespaces/ns/secrets')), false);
    assert.equal(
      ruleAllows(rule, at('GET', '/api/v1/namespaces/ns/secrets?fieldSelector=metadata.name=key')),
      true,
    );
  });
  test('a subresource needs its own entry (or */sub); the resource does not cover it', () => {
    const status = at('PATCH', '/api/v1/namespaces/ns/services/s/status');
    assert.equal(ruleAllows({ apiGroups: [''], resources: ['services'], verbs: ['patch'] }, status), false);
    assert.equal(
      ruleAllows({ apiGroups: [''], resources: ['services/status'], verbs: ['patch'] }, status),
      true,
    );
    assert.equal(ruleAllows({ apiGroups: [''], resources: ['*/status'], verbs: ['patch'] }, status), true);
    assert.equal(
      ruleAllows(
        { apiGroups: [''], resources: ['services/status'], verbs: ['patch'] },
        at('PATCH', '/api/v1/namespaces/ns/services/s'),
      ),
      false,
    );
  });
  test('group, verb and wildcards', () => {
    assert.equal(ruleAllows({ apiGroups: ['apps'], resources: ['secrets'], verbs: ['get'] }, get), false);
    assert.equal(ruleAllows({ apiGroups: [''], resources: ['secrets'], verbs: ['watch'] }, get), false);
    assert.equal(ruleAllows({ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }, get), true);
    assert.equal(ruleAllows({ nonResourceURLs: ['/metrics'], verbs: ['get'] }, get), false);
    assert.equal(ruleAllows({ nonResourceURLs: ['/apis/*'], verbs: ['get'] }, at('GET', '/apis/x/v1')), true);
  });
});

describe('authorize', () => {
  const speaker = serviceAccountUser('mb', 'speaker');
  const policy: RbacPolicy = {
    roles: [
      {
        metadata: { name: 'speaker', namespace: 'mb' },
        rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }],
      },
      {
        metadata: { name: 'speaker', namespace: 'other' },
        rules: [{ apiGroups: [''], resources: ['*'], verbs: ['*'] }],
      },
    ],
    clusterRoles: [
      { metadata: { name: 'nodes' }, rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['watch'] }] },
    ],
    roleBindings: [
      {
        metadata: { name: 'speaker', namespace: 'mb' },
        roleRef: { kind: 'Role', name: 'speaker' },
        subjects: [{ kind: 'ServiceAccount', name: 'speaker', namespace: 'mb' }],
      },
      {
        // Names a Role of namespace "other" from namespace "mb": resolves to mb's Role, so
        // other's wildcard Role never applies.
        metadata: { name: 'wide', namespace: 'mb' },
        roleRef: { kind: 'Role', name: 'missing' },
        subjects: [{ kind: 'ServiceAccount', name: 'speaker' }],
      },
    ],
    clusterRoleBindings: [
      {
        metadata: { name: 'nodes' },
        roleRef: { kind: 'ClusterRole', name: 'nodes' },
        subjects: [{ kind: 'Group', name: 'system:serviceaccounts:mb' }],
      },
    ],
  };
  test('a RoleBinding grants in its namespace only', () => {
    assert.equal(authorize(speaker, at('GET', '/api/v1/namespaces/mb/pods'), policy).allowed, true);
    assert.equal(authorize(speaker, at('GET', '/api/v1/namespaces/other/pods'), policy).allowed, false);
    assert.equal(authorize(speaker, at('GET', '/api/v1/pods'), policy).allowed, false);
  });
  test('a ClusterRoleBinding to a group grants everywhere to its members only', () => {
    assert.equal(authorize(speaker, at('GET', '/api/v1/nodes?watch=1'), policy).allowed, true);
    assert.equal(
      authorize(serviceAccountUser('x', 'speaker'), at('GET', '/api/v1/nodes?watch=1'), policy).allowed,
      false,
    );
  });
  test('every authenticated user may read discovery and /version; nothing else without a rule', () => {
    assert.equal(authorize(speaker, at('GET', '/version'), policy).allowed, true);
    assert.equal(authorize(speaker, at('GET', '/metrics'), policy).allowed, false);
  });
  test('the refusal is the real server message', () => {
    assert.equal(
      authorize(speaker, at('GET', '/api/v1/namespaces/mb/secrets/key'), policy).reason,
      'secrets "key" is forbidden: User "system:serviceaccount:mb:speaker" cannot get resource "secrets" in API group "" in the namespace "mb"',
    );
    assert.equal(
      authorize(speaker, at('POST', '/api/v1/namespaces'), policy).reason,
      'namespaces is forbidden: User "system:serviceaccount:mb:speaker" cannot create resource "namespaces" in API group "" at the cluster scope',
    );
  });
});
