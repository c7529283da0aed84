/**
 * Descriptors of k8s.io/apimachinery meta/v1 messages (field numbers from its generated.proto),
 * shared by every kind.
 */
import { type FieldDef, type MessageSpec, message } from './codec.ts';

const META = 'k8s.io.apimachinery.pkg.apis.meta.v1';

export const OwnerReference = message(`${META}.OwnerReference`, {
  1: ['kind', 'string'],
  3: ['name', 'string'],
  4: ['uid', 'string'],
  5: ['apiVersion', 'string'],
  6: ['controller', 'bool', 'ptr'],
  7: ['blockOwnerDeletion', 'bool', 'ptr'],
});

/** managedFields (17) is read and dropped: this server keeps no field ownership. */
export const ObjectMeta = message(
  `${META}.ObjectMeta`,
  {
    1: ['name', 'string'],
    2: ['generateName', 'string'],
    3: ['namespace', 'string'],
    4: ['selfLink', 'string'],
    5: ['uid', 'string'],
    6: ['resourceVersion', 'string'],
    7: ['generation', 'int64'],
    8: ['creationTimestamp', 'time'],
    9: ['deletionTimestamp', 'time'],
    10: ['deletionGracePeriodSeconds', 'int64', 'ptr'],
    11: ['labels', 'string', 'map'],
    12: ['annotations', 'string', 'map'],
    13: ['ownerReferences', OwnerReference, 'list'],
    14: ['finalizers', 'string', 'list'],
  },
  [17],
);

export const LabelSelectorRequirement = message(`${META}.LabelSelectorRequirement`, {
  1: ['key', 'string'],
  2: ['operator', 'string'],
  3: ['values', 'string', 'list'],
});

export const LabelSelector = message(`${META}.LabelSelector`, {
  1: ['matchLabels', 'string', 'map'],
  2: ['matchExpressions', LabelSelectorRequirement, 'list'],
});

/**
 * A status condition as every API group declares it: type (1) and status (2), then the group's
 * own fields (times, generation), with reason and message at `reasonAt` and the number after it.
 */
export function condition(proto: string, own: Record<number, FieldDef>, reasonAt = 5): MessageSpec {
  return message(proto, {
    1: ['type', 'string'],
    2: ['status', 'string'],
    ...own,
    [reasonAt]: ['reason', 'string'],
    [reasonAt + 1]: ['message', 'string'],
  });
}

export const Condition = condition(`${META}.Condition`, {
  3: ['observedGeneration', 'int64'],
  4: ['lastTransitionTime', 'time'],
});

/** runtime.TypeMeta inside the `k8s\0` envelope (runtime.Unknown). */
export const TypeMeta = message('k8s.io.apimachinery.pkg.runtime.TypeMeta', {
  1: ['apiVersion', 'string'],
  2: ['kind', 'string'],
});
