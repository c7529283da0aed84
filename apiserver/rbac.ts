import type { RequestAttributes } from './request-attributes.ts';

/**
 * RBAC as kube-apiserver evaluates it (k8s.io/kubernetes/plugin/pkg/auth/authorizer/rbac):
 * a request is allowed when some binding whose subjects include the user points at a role with
 * a rule that covers the request. Nothing is ever denied explicitly; no rule, no access.
 * Pure: the caller passes the RBAC objects it holds.
 */

/** One rule of a Role or ClusterRole (rbac.authorization.k8s.io/v1 PolicyRule). */
export interface PolicyRule {
  readonly apiGroups?: readonly string[];
  readonly resources?: readonly string[];
  readonly verbs: readonly string[];
  /** Empty or absent: any name. */
  readonly resourceNames?: readonly string[];
  readonly nonResourceURLs?: readonly string[];
}

export interface RoleObject {
  readonly metadata: { readonly name?: string; readonly namespace?: string };
  readonly rules?: readonly PolicyRule[] | null;
}

export interface Subject {
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
}

export interface BindingObject {
  readonly metadata: { readonly name?: string; readonly namespace?: string };
  readonly roleRef: { readonly kind: string; readonly name: string };
  readonly subjects?: readonly Subject[] | null;
}

/** Every RBAC object of the cluster. */
export interface RbacPolicy {
  readonly roles: readonly RoleObject[];
  readonly clusterRoles: readonly RoleObject[];
  readonly roleBindings: readonly BindingObject[];
  readonly clusterRoleBindings: readonly BindingObject[];
}

/** An authenticated user: a ServiceAccount is `system:serviceaccount:NS:NAME`. */
export interface UserInfo {
  readonly name: string;
  readonly groups: readonly string[];
}

export interface Decision {
  readonly allowed: boolean;
  /** Which binding and role allowed it, or why nothing did (the real server's Forbidden text). */
  readonly reason: string;
}

const SA_PREFIX = 'system:serviceaccount:';

/** The user a ServiceAccount's token authenticates as, with the groups the real server adds. */
export function serviceAccountUser(namespace: string, name: string): UserInfo {
  return {
    name: `${SA_PREFIX}${namespace}:${name}`,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
  };
}

/**
 * What the default bootstrap roles give every authenticated user (system:discovery,
 * system:public-info-viewer, system:basic-user): discovery, version, health, OpenAPI and
 * reviews of one's own access.
 */
export const AUTHENTICATED_RULES: readonly PolicyRule[] = [
  {
    nonResourceURLs: [
      '/api',
      '/api/*',
      '/apis',
      '/apis/*',
      '/openapi',
      '/openapi/*',
      '/version',
      '/version/',
      '/healthz',
      '/livez',
      '/readyz',
    ],
    verbs: ['get'],
  },
  {
    apiGroups: ['authorization.k8s.io'],
    resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'],
    verbs: ['create'],
  },
];

function has(list: readonly string[] | undefined, value: string): boolean {
  return list !== undefined && (list.includes('*') || list.includes(value));
}

/** True when `rule` covers the request (k8s RuleAllows). */
export function ruleAllows(rule: PolicyRule, request: RequestAttributes): boolean {
  if (!has(rule.verbs, request.verb)) return false;
  if (!request.resourceRequest) {
    return (rule.nonResourceURLs ?? []).some(
      (url) =>
        url === '*' ||
        url === request.path ||
        (url.endsWith('*') && request.path.startsWith(url.slice(0, -1))),
    );
  }
  if (!has(rule.apiGroups, request.apiGroup)) return false;
  const combined = request.subresource ? `${request.resource}/${request.subresource}` : request.resource;
  const resources = rule.resources ?? [];
  const resourceMatches =
    resources.includes('*') ||
    resources.includes(combined) ||
    (request.subresource !== '' && resources.includes(`*/${request.subresource}`));
  if (!resourceMatches) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || (request.name !== '' && names.includes(request.name));
}

/** True when the binding's subjects include the user (a ServiceAccount subject is matched by its user name). */
export function bindingAppliesTo(binding: BindingObject, user: UserInfo): boolean {
  return (binding.subjects ?? []).some((s) => {
    if (s.kind === 'User') return s.name === user.name;
    if (s.kind === 'Group') return user.groups.includes(s.name);
    if (s.kind === 'ServiceAccount') {
      const namespace = s.namespace || binding.metadata.namespace || '';
      return user.name === `${SA_PREFIX}${namespace}:${s.name}`;
    }
    return false;
  });
}

function roleOf(policy: RbacPolicy, binding: BindingObject): RoleObject | undefined {
  const { kind, name } = binding.roleRef;
  if (kind === 'ClusterRole') return policy.clusterRoles.find((r) => r.metadata.name === name);
  if (kind === 'Role') {
    return policy.roles.find(
      (r) => r.metadata.name === name && r.metadata.namespace === binding.metadata.namespace,
    );
  }
  return undefined;
}

/** Allows or refuses one request of `user`. */
export function authorize(user: UserInfo, request: RequestAttributes, policy: RbacPolicy): Decision {
  if (AUTHENTICATED_RULES.some((rule) => ruleAllows(rule, request))) {
    return { allowed: true, reason: 'allowed to every authenticated user' };
  }
  const candidates: { binding: BindingObject; kind: string }[] = [
    ...policy.clusterRoleBindings.map((binding) => ({ binding, kind: 'ClusterRoleBinding' })),
    // A RoleBinding grants only inside its own namespace, never at the cluster scope.
    ...policy.roleBindings
      .filter((b) => request.namespace !== '' && b.metadata.namespace === request.namespace)
      .map((binding) => ({ binding, kind: 'RoleBinding' })),
  ];
  for (const { binding, kind } of candidates) {
    if (!bindingAppliesTo(binding, user)) continue;
    const role = roleOf(policy, binding);
    if (role && (role.rules ?? []).some((rule) => ruleAllows(rule, request))) {
      const where = binding.metadata.namespace ? `${binding.metadata.namespace}/` : '';
      return {
        allowed: true,
        reason: `${kind} ${where}${binding.metadata.name} of ${binding.roleRef.kind} ${binding.roleRef.name}`,
      };
    }
  }
  return { allowed: false, reason: forbiddenMessage(user, request) };
}

/** The real server's Forbidden message, e.g. `secrets "x" is forbidden: User "…" cannot get resource "secrets" in API group "" in the namespace "ns"`. */
export function forbiddenMessage(user: UserInfo, request: RequestAttributes): string {
  if (!request.resourceRequest) {
    return `forbidden: User "${user.name}" cannot ${request.verb} path "${request.path}"`;
  }
  const qualified = request.apiGroup ? `${request.resource}.${request.apiGroup}` : request.resource;
  const what = request.name ? `${qualified} "${request.name}"` : qualified;
  const resource = request.subresource ? `${request.resource}/${request.subresource}` : request.resource;
  const scope = request.namespace ? `in the namespace "${request.namespace}"` : 'at the cluster scope';
  return `${what} is forbidden: User "${user.name}" cannot ${request.verb} resource "${resource}" in API group "${request.apiGroup}" ${scope}`;
}
