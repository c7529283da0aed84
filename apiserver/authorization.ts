import type { IncomingHttpHeaders } from 'node:http';
import type { Context } from './context.ts';
import { ApiError } from './errors.ts';
import { authorize, type BindingObject, type RbacPolicy, type RoleObject, type UserInfo } from './rbac.ts';
import type { RequestAttributes } from './request-attributes.ts';

/**
 * Who may do what. A request without credentials acts as the cluster's administrator (the lab,
 * the tests' own clients, kubectl), as before; a request with a bearer token the server issued
 * (`serviceAccountKubeconfig`) is that ServiceAccount and RBAC decides with the Roles,
 * ClusterRoles and bindings stored at that moment. Any other token is 401.
 */

/** One authorization decision, for tests that derive what a program needs. */
export interface AuditEntry {
  readonly user: string;
  readonly attributes: RequestAttributes;
  readonly allowed: boolean;
  /** The binding that allowed it, or the Forbidden message. */
  readonly reason: string;
}

const RBAC_GROUP = 'rbac.authorization.k8s.io';

/**
 * The user a request authenticates as; undefined: no credentials (administrator), which the
 * HTTPS listener (`requireToken`) refuses: there every client is a ServiceAccount.
 */
export function authenticate(
  ctx: Context,
  headers: IncomingHttpHeaders,
  requireToken = false,
): UserInfo | undefined {
  const header = headers.authorization;
  if (header === undefined) {
    if (requireToken) throw new ApiError(401, 'Unauthorized', 'Unauthorized: no bearer token');
    return undefined;
  }
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match)
    throw new ApiError(401, 'Unauthorized', 'Unauthorized: the Authorization header is not "Bearer TOKEN"');
  const review = ctx.tokens.review(match[1]!);
  if (review.authenticated) return review.user;
  throw new ApiError(
    401,
    'Unauthorized',
    review.reason === 'revoked'
      ? 'Unauthorized: the bearer token was revoked'
      : 'Unauthorized: the bearer token is not one this server issued',
  );
}

function stored<T>(ctx: Context, resource: string): T[] {
  const t = ctx.registry.lookup(RBAC_GROUP, 'v1', resource);
  return t ? ([...ctx.store.scan(t)] as unknown as T[]) : [];
}

/** The RBAC objects the store holds now. */
export function currentPolicy(ctx: Context): RbacPolicy {
  return {
    roles: stored<RoleObject>(ctx, 'roles'),
    clusterRoles: stored<RoleObject>(ctx, 'clusterroles'),
    roleBindings: stored<BindingObject>(ctx, 'rolebindings'),
    clusterRoleBindings: stored<BindingObject>(ctx, 'clusterrolebindings'),
  };
}

/** Throws 403 Forbidden (the real server's message) unless RBAC allows the request; reports the decision. */
export function checkAccess(ctx: Context, user: UserInfo, attributes: RequestAttributes): void {
  const decision = authorize(user, attributes, currentPolicy(ctx));
  ctx.onAudit?.({ user: user.name, attributes, allowed: decision.allowed, reason: decision.reason });
  if (!decision.allowed) {
    throw new ApiError(403, 'Forbidden', decision.reason, {
      ...(attributes.name ? { name: attributes.name } : {}),
      ...(attributes.apiGroup ? { group: attributes.apiGroup } : {}),
      kind: attributes.resource,
    });
  }
}

/** A SelfSubjectAccessReview's status for `user` (resourceAttributes or nonResourceAttributes of its spec). */
export function reviewAccess(
  ctx: Context,
  user: UserInfo,
  reviewSpec: unknown,
): { allowed: boolean; reason: string } {
  const spec = (reviewSpec ?? {}) as {
    resourceAttributes?: Record<string, string | undefined>;
    nonResourceAttributes?: { path?: string; verb?: string };
  };
  const r = spec.resourceAttributes;
  const attributes: RequestAttributes = r
    ? {
        resourceRequest: true,
        verb: r.verb ?? '',
        path: '',
        apiGroup: r.group ?? '',
        resource: r.resource ?? '',
        subresource: r.subresource ?? '',
        namespace: r.namespace ?? '',
        name: r.name ?? '',
      }
    : {
        resourceRequest: false,
        verb: spec.nonResourceAttributes?.verb ?? '',
        path: spec.nonResourceAttributes?.path ?? '',
        apiGroup: '',
        resource: '',
        subresource: '',
        namespace: '',
        name: '',
      };
  const { allowed, reason } = authorize(user, attributes, currentPolicy(ctx));
  return { allowed, reason };
}
