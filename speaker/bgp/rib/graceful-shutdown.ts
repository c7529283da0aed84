import { WellKnownCommunity } from '../codec/index.ts';
import { mapRouteValues } from './encoded-prefix-map.ts';
import type { RouteAttributes } from './rib-out.ts';

/**
 * The routes re-advertised while a session drains before a graceful shutdown (RFC 8326 §4): each
 * with the GRACEFUL_SHUTDOWN community added and, on iBGP, LOCAL_PREF 0, so the peer moves the
 * traffic to other paths before the session ends. Routes sharing attributes keep sharing them.
 */
export function drainingRoutes(
  desired: ReadonlyMap<string, RouteAttributes>,
  ibgp: boolean,
): Map<string, RouteAttributes> {
  return mapRouteValues(desired, (attrs) => ({
    ...attrs,
    communities: [...(attrs.communities ?? []), WellKnownCommunity.GracefulShutdown],
    ...(ibgp ? { localPref: 0 } : {}),
  }));
}
