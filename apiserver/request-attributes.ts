import { parseResourcePath } from './routes.ts';

/**
 * What RBAC decides on, derived from a request as the real server's RequestInfo does
 * (k8s.io/apiserver/pkg/endpoints/request): the verb from the HTTP method and the path, the
 * group, resource, subresource, namespace and name from the path (a list or watch names one
 * object through `fieldSelector=metadata.name=X`).
 */
export interface RequestAttributes {
  /** false for discovery, /version, /healthz, OpenAPI: RBAC matches those by path. */
  readonly resourceRequest: boolean;
  /** get, list, watch, create, update, patch, delete, deletecollection; the lower-case method otherwise. */
  readonly verb: string;
  readonly path: string;
  readonly apiGroup: string;
  readonly resource: string;
  readonly subresource: string;
  /** '' at the cluster scope. */
  readonly namespace: string;
  /** '' when the request names no object. */
  readonly name: string;
}

const NAME_SELECTOR = /^metadata\.name(?:==?)([^,]+)$/;

/** The attributes of one request; `query` is the URL's search part. */
export function requestAttributes(
  method: string,
  pathname: string,
  query: URLSearchParams,
): RequestAttributes {
  const path = pathname.replace(/\/+$/, '') || '/';
  const target = parseResourcePath(path);
  const lower = method.toLowerCase();
  if (!target) {
    return {
      resourceRequest: false,
      verb: lower === 'head' ? 'get' : lower,
      path,
      apiGroup: '',
      resource: '',
      subresource: '',
      namespace: '',
      name: '',
    };
  }
  let name = target.name ?? '';
  const watching = target.watchPath || query.get('watch') === 'true' || query.get('watch') === '1';
  let verb: string;
  switch (method) {
    case 'GET':
    case 'HEAD':
      verb = watching ? 'watch' : name ? 'get' : 'list';
      break;
    case 'POST':
      verb = 'create';
      break;
    case 'PUT':
      verb = 'update';
      break;
    case 'PATCH':
      verb = 'patch';
      break;
    case 'DELETE':
      verb = name ? 'delete' : 'deletecollection';
      break;
    default:
      verb = lower;
  }
  if ((verb === 'list' || verb === 'watch') && !name) {
    const byName = NAME_SELECTOR.exec(query.get('fieldSelector') ?? '');
    if (byName) name = byName[1]!;
  }
  // A namespace is its own scope: /api/v1/namespaces/x is in namespace x (as the real server says).
  const isNamespace = target.group === '' && target.resource === 'namespaces';
  const namespace = target.namespace ?? (isNamespace ? name : '');
  return {
    resourceRequest: true,
    verb,
    path,
    apiGroup: target.group,
    resource: target.resource,
    subresource: target.subresource ?? '',
    namespace,
    name,
  };
}
