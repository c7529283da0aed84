import type { Community } from '../api/resources.ts';
import { parseCommunity } from './communities.ts';
import { configError, describeRef, type ObjectRef } from './errors.ts';
import { objectsOfShape } from './shapes.ts';
import type { BgpCommunity, ConfigError } from './types.ts';

/**
 * Collects the aliases of all Community objects: alias -> value. An alias name may be defined
 * once across all objects (MetalLB's rule), and each value must be a real community, not
 * another alias.
 */
export function buildCommunityAliases(
  objects: readonly Community[],
  namespace: string | undefined,
  errors: ConfigError[],
): Record<string, BgpCommunity> {
  const aliases: Record<string, BgpCommunity> = {};
  // alias -> where it was first defined
  const definedAt = new Map<string, { ref: ObjectRef; field: string }>();
  for (const { object, ref } of objectsOfShape('Community', objects, namespace, errors)) {
    (object.spec?.communities ?? []).forEach((entry, i) => {
      const field = `spec.communities[${i}]`;
      const name = String(entry.name ?? '');
      if (name === '' || /[:\s]/.test(name)) {
        errors.push(
          configError(
            ref,
            `${field}.name`,
            `alias "${name}" must be non-empty without ':' or spaces (':' marks a community value)`,
          ),
        );
        return;
      }
      const first = definedAt.get(name);
      if (first) {
        errors.push(
          configError(
            ref,
            `${field}.name`,
            `duplicate community alias "${name}": already defined by ${describeRef(first.ref)} ${first.field}`,
          ),
        );
        return;
      }
      const parsed = parseCommunity(String(entry.value ?? ''));
      if (!parsed.ok) {
        errors.push(configError(ref, `${field}.value`, parsed.reason));
        return;
      }
      definedAt.set(name, { ref, field });
      aliases[name] = parsed.value;
    });
  }
  return aliases;
}
