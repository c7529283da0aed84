import type { AuditEntry } from '../../apiserver/authorization.ts';
import {
  authorize,
  type BindingObject,
  bindingAppliesTo,
  type PolicyRule,
  type RbacPolicy,
  type RoleObject,
  ruleAllows,
  type UserInfo,
} from '../../apiserver/rbac.ts';
import type { RequestAttributes } from '../../apiserver/request-attributes.ts';
import type { Manifest } from './render.ts';

/**
 * What an install grants, one verb at a time, and whether recorded requests used it: the
 * RBAC test's arithmetic (the evaluation itself is the embedded API server's, apiserver/rbac.ts).
 */

/** The RBAC objects of a rendering (kustomize build, helm template, config/rbac). */
export function policyOf(objects: readonly Manifest[]): RbacPolicy {
  const of = <T>(kind: string) => objects.filter((o) => o.kind === kind) as unknown as T[];
  return {
    roles: of<RoleObject>('Role'),
    clusterRoles: of<RoleObject>('ClusterRole'),
    roleBindings: of<BindingObject>('RoleBinding'),
    clusterRoleBindings: of<BindingObject>('ClusterRoleBinding'),
  };
}

/**
 * One verb on one resource (or subresource) that a rule grants, at one scope: a namespace
 * (a RoleBinding) or the cluster (a ClusterRoleBinding), on one named object when the rule
 * names them (`name`), else on any ('').
 */
export interface Grant {
  /** Which binding and role grant it, for messages. */
  readonly from: string;
  /** The namespace a RoleBinding grants in; '' for a ClusterRoleBinding. */
  readonly namespace: string;
  readonly apiGroup: string;
  /** `resource` or `resource/subresource`. */
  readonly resource: string;
  readonly verb: string;
  readonly name: string;
}

/** Every grant the policy gives `user`; wildcards are refused (never least privilege). */
export function grantsOf(policy: RbacPolicy, user: UserInfo): Grant[] {
  const out: Grant[] = [];
  const bound: { binding: BindingObject; namespace: string; kind: string }[] = [
    ...policy.clusterRoleBindings.map((binding) => ({ binding, namespace: '', kind: 'ClusterRoleBinding' })),
    ...policy.roleBindings.map((binding) => ({
      binding,
      namespace: binding.metadata.namespace ?? '',
      kind: 'RoleBinding',
    })),
  ];
  for (const { binding, namespace, kind } of bound) {
    if (!bindingAppliesTo(binding, user)) continue;
    const { roleRef } = binding;
    const role =
      roleRef.kind === 'ClusterRole'
        ? policy.clusterRoles.find((r) => r.metadata.name === roleRef.name)
        : policy.roles.find((r) => r.metadata.name === roleRef.name && r.metadata.namespace === namespace);
    if (!role)
      throw new Error(`${kind} ${binding.metadata.name} refers to a missing ${roleRef.kind} ${roleRef.name}`);
    const from = `${kind} ${binding.metadata.name} -> ${roleRef.kind} ${roleRef.name}`;
    for (const rule of role.rules ?? []) out.push(...expand(rule, from, namespace));
  }
  return out;
}

function expand(rule: PolicyRule, from: string, namespace: string): Grant[] {
  if ((rule.nonResourceURLs ?? []).length > 0) {
    throw new Error(`${from}: nonResourceURLs ${rule.nonResourceURLs?.join(',')} (no program requests any)`);
  }
  const all = [
    ...(rule.apiGroups ?? []),
    ...(rule.resources ?? []),
    ...rule.verbs,
    ...(rule.resourceNames ?? []),
  ];
  if (all.some((v) => v.includes('*'))) throw new Error(`${from}: a wildcard in ${JSON.stringify(rule)}`);
  const names = rule.resourceNames && rule.resourceNames.length > 0 ? rule.resourceNames : [''];
  const out: Grant[] = [];
  for (const apiGroup of rule.apiGroups ?? [])
    for (const resource of rule.resources ?? [])
      for (const verb of rule.verbs)
        for (const name of names) out.push({ from, namespace, apiGroup, resource, verb, name });
  return out;
}

/**
 * True when the request needed this grant: same verb, group, resource and (for a named grant)
 * name, in the grant's namespace; a cluster-wide grant counts only for a request that a grant
 * in the install's own namespace could not have served (cluster scope, or another namespace).
 */
export function needs(request: RequestAttributes, grant: Grant, installNamespace: string): boolean {
  const [resource = '', subresource = ''] = grant.resource.split('/');
  const rule: PolicyRule = {
    apiGroups: [grant.apiGroup],
    resources: [subresource ? `${resource}/${subresource}` : resource],
    verbs: [grant.verb],
    ...(grant.name ? { resourceNames: [grant.name] } : {}),
  };
  if (!ruleAllows(rule, request)) return false;
  return grant.namespace === ''
    ? request.namespace !== installNamespace
    : request.namespace === grant.namespace;
}

export function describeGrant(g: Grant): string {
  const what = `${g.verb} ${g.apiGroup ? `${g.apiGroup}/` : ''}${g.resource}${g.name ? ` "${g.name}"` : ''}`;
  return `${what} ${g.namespace ? `in ${g.namespace}` : 'cluster-wide'} (${g.from})`;
}

export function describeRequest(r: RequestAttributes): string {
  return `${r.verb} ${r.apiGroup ? `${r.apiGroup}/` : ''}${r.resource}${r.subresource ? `/${r.subresource}` : ''}${r.name ? ` "${r.name}"` : ''}${r.namespace ? ` in ${r.namespace}` : ''}`;
}

/** The grants of `user` in `policy` that no request of the user needed. */
export function unusedGrants(
  policy: RbacPolicy,
  user: UserInfo,
  requests: readonly AuditEntry[],
  installNamespace: string,
): string[] {
  const mine = requests.filter((e) => e.user === user.name && e.allowed).map((e) => e.attributes);
  return grantsOf(policy, user)
    .filter((g) => !mine.some((r) => needs(r, g, installNamespace)))
    .map(describeGrant);
}

/** The requests of `user` that `policy` would refuse. */
export function refusedRequests(
  policy: RbacPolicy,
  user: UserInfo,
  requests: readonly AuditEntry[],
): string[] {
  const refused = requests
    .filter((e) => e.user === user.name)
    .filter((e) => !authorize(user, e.attributes, policy).allowed)
    .map((e) => describeRequest(e.attributes));
  return [...new Set(refused)].sort();
}
