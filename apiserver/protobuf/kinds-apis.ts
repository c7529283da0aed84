/**
 * Descriptors of the named-group kinds this server stores: apps, batch, rbac, policy,
 * coordination, discovery and events (field numbers from each group's generated.proto).
 */
import { message } from './codec.ts';
import { EventSource, ObjectReference } from './kinds-core.ts';
import { Condition, condition, LabelSelector, ObjectMeta } from './kinds-meta.ts';
import { PodTemplateSpec } from './kinds-pod.ts';

const APPS = 'k8s.io.api.apps.v1';

/** Deployment, DaemonSet and Job conditions share one layout up to the time fields. */
const DeploymentCondition = condition(
  `${APPS}.DeploymentCondition`,
  { 6: ['lastUpdateTime', 'time'], 7: ['lastTransitionTime', 'time'] },
  4,
);

const RollingUpdate = (name: string) =>
  message(`${APPS}.${name}`, { 1: ['maxUnavailable', 'intOrString'], 2: ['maxSurge', 'intOrString'] });

export const Deployment = message(`${APPS}.Deployment`, {
  1: ['metadata', ObjectMeta],
  2: [
    'spec',
    message(`${APPS}.DeploymentSpec`, {
      1: ['replicas', 'int32', 'ptr'],
      2: ['selector', LabelSelector],
      3: ['template', PodTemplateSpec],
      4: [
        'strategy',
        message(`${APPS}.DeploymentStrategy`, {
          1: ['type', 'string'],
          2: ['rollingUpdate', RollingUpdate('RollingUpdateDeployment')],
        }),
      ],
      5: ['minReadySeconds', 'int32'],
      6: ['revisionHistoryLimit', 'int32', 'ptr'],
      7: ['paused', 'bool'],
      9: ['progressDeadlineSeconds', 'int32', 'ptr'],
    }),
  ],
  3: [
    'status',
    message(`${APPS}.DeploymentStatus`, {
      1: ['observedGeneration', 'int64'],
      2: ['replicas', 'int32'],
      3: ['updatedReplicas', 'int32'],
      4: ['availableReplicas', 'int32'],
      5: ['unavailableReplicas', 'int32'],
      6: ['conditions', DeploymentCondition, 'list'],
      7: ['readyReplicas', 'int32'],
      8: ['collisionCount', 'int32', 'ptr'],
      9: ['terminatingReplicas', 'int32', 'ptr'],
    }),
  ],
});

const DaemonSetCondition = condition(`${APPS}.DaemonSetCondition`, { 3: ['lastTransitionTime', 'time'] }, 4);

export const DaemonSet = message(`${APPS}.DaemonSet`, {
  1: ['metadata', ObjectMeta],
  2: [
    'spec',
    message(`${APPS}.DaemonSetSpec`, {
      1: ['selector', LabelSelector],
      2: ['template', PodTemplateSpec],
      3: [
        'updateStrategy',
        message(`${APPS}.DaemonSetUpdateStrategy`, {
          1: ['type', 'string'],
          2: ['rollingUpdate', RollingUpdate('RollingUpdateDaemonSet')],
        }),
      ],
      4: ['minReadySeconds', 'int32'],
      6: ['revisionHistoryLimit', 'int32', 'ptr'],
    }),
  ],
  3: [
    'status',
    message(`${APPS}.DaemonSetStatus`, {
      1: ['currentNumberScheduled', 'int32'],
      2: ['numberMisscheduled', 'int32'],
      3: ['desiredNumberScheduled', 'int32'],
      4: ['numberReady', 'int32'],
      5: ['observedGeneration', 'int64'],
      6: ['updatedNumberScheduled', 'int32'],
      7: ['numberAvailable', 'int32'],
      8: ['numberUnavailable', 'int32'],
      9: ['collisionCount', 'int32', 'ptr'],
      10: ['conditions', DaemonSetCondition, 'list'],
    }),
  ],
});

const BATCH = 'k8s.io.api.batch.v1';

const JobCondition = condition(`${BATCH}.JobCondition`, {
  3: ['lastProbeTime', 'time'],
  4: ['lastTransitionTime', 'time'],
});

export const Job = message(`${BATCH}.Job`, {
  1: ['metadata', ObjectMeta],
  2: [
    'spec',
    message(`${BATCH}.JobSpec`, {
      1: ['parallelism', 'int32', 'ptr'],
      2: ['completions', 'int32', 'ptr'],
      3: ['activeDeadlineSeconds', 'int64', 'ptr'],
      4: ['selector', LabelSelector],
      5: ['manualSelector', 'bool', 'ptr'],
      6: ['template', PodTemplateSpec],
      7: ['backoffLimit', 'int32', 'ptr'],
      8: ['ttlSecondsAfterFinished', 'int32', 'ptr'],
      9: ['completionMode', 'string', 'ptr'],
      10: ['suspend', 'bool', 'ptr'],
    }),
  ],
  3: [
    'status',
    message(`${BATCH}.JobStatus`, {
      1: ['conditions', JobCondition, 'list'],
      2: ['startTime', 'time'],
      3: ['completionTime', 'time'],
      4: ['active', 'int32'],
      5: ['succeeded', 'int32'],
      6: ['failed', 'int32'],
      7: ['completedIndexes', 'string'],
      9: ['ready', 'int32', 'ptr'],
      11: ['terminating', 'int32', 'ptr'],
    }),
  ],
});

const RBAC = 'k8s.io.api.rbac.v1';

const PolicyRule = message(`${RBAC}.PolicyRule`, {
  1: ['verbs', 'string', 'list'],
  2: ['apiGroups', 'string', 'list'],
  3: ['resources', 'string', 'list'],
  4: ['resourceNames', 'string', 'list'],
  5: ['nonResourceURLs', 'string', 'list'],
});

const Subject = message(`${RBAC}.Subject`, {
  1: ['kind', 'string'],
  2: ['apiGroup', 'string'],
  3: ['name', 'string'],
  4: ['namespace', 'string'],
});

const RoleRef = message(`${RBAC}.RoleRef`, {
  1: ['apiGroup', 'string'],
  2: ['kind', 'string'],
  3: ['name', 'string'],
});

export const Role = message(`${RBAC}.Role`, {
  1: ['metadata', ObjectMeta],
  2: ['rules', PolicyRule, 'list'],
});

export const ClusterRole = message(`${RBAC}.ClusterRole`, {
  1: ['metadata', ObjectMeta],
  2: ['rules', PolicyRule, 'list'],
  3: [
    'aggregationRule',
    message(`${RBAC}.AggregationRule`, { 1: ['clusterRoleSelectors', LabelSelector, 'list'] }),
  ],
});

const binding = (kind: string) =>
  message(`${RBAC}.${kind}`, {
    1: ['metadata', ObjectMeta],
    2: ['subjects', Subject, 'list'],
    3: ['roleRef', RoleRef],
  });
export const RoleBinding = binding('RoleBinding');
export const ClusterRoleBinding = binding('ClusterRoleBinding');

const POLICY = 'k8s.io.api.policy.v1';

export const PodDisruptionBudget = message(`${POLICY}.PodDisruptionBudget`, {
  1: ['metadata', ObjectMeta],
  2: [
    'spec',
    message(`${POLICY}.PodDisruptionBudgetSpec`, {
      1: ['minAvailable', 'intOrString'],
      2: ['selector', LabelSelector],
      3: ['maxUnavailable', 'intOrString'],
      4: ['unhealthyPodEvictionPolicy', 'string', 'ptr'],
    }),
  ],
  3: [
    'status',
    message(`${POLICY}.PodDisruptionBudgetStatus`, {
      1: ['observedGeneration', 'int64'],
      2: ['disruptedPods', 'time', 'map'],
      3: ['disruptionsAllowed', 'int32'],
      4: ['currentHealthy', 'int32'],
      5: ['desiredHealthy', 'int32'],
      6: ['expectedPods', 'int32'],
      7: ['conditions', Condition, 'list'],
    }),
  ],
});

const COORDINATION = 'k8s.io.api.coordination.v1';

export const Lease = message(`${COORDINATION}.Lease`, {
  1: ['metadata', ObjectMeta],
  2: [
    'spec',
    message(`${COORDINATION}.LeaseSpec`, {
      1: ['holderIdentity', 'string', 'ptr'],
      2: ['leaseDurationSeconds', 'int32', 'ptr'],
      3: ['acquireTime', 'microTime'],
      4: ['renewTime', 'microTime'],
      5: ['leaseTransitions', 'int32', 'ptr'],
      6: ['strategy', 'string', 'ptr'],
      7: ['preferredHolder', 'string', 'ptr'],
    }),
  ],
});

const DISCOVERY = 'k8s.io.api.discovery.v1';

const EndpointHints = message(`${DISCOVERY}.EndpointHints`, {
  1: ['forZones', message(`${DISCOVERY}.ForZone`, { 1: ['name', 'string'] }), 'list'],
  2: ['forNodes', message(`${DISCOVERY}.ForNode`, { 1: ['name', 'string'] }), 'list'],
});

const Endpoint = message(`${DISCOVERY}.Endpoint`, {
  1: ['addresses', 'string', 'list'],
  2: [
    'conditions',
    message(`${DISCOVERY}.EndpointConditions`, {
      1: ['ready', 'bool', 'ptr'],
      2: ['serving', 'bool', 'ptr'],
      3: ['terminating', 'bool', 'ptr'],
    }),
  ],
  3: ['hostname', 'string', 'ptr'],
  4: ['targetRef', ObjectReference],
  5: ['deprecatedTopology', 'string', 'map'],
  6: ['nodeName', 'string', 'ptr'],
  7: ['zone', 'string', 'ptr'],
  8: ['hints', EndpointHints],
});

export const EndpointSlice = message(`${DISCOVERY}.EndpointSlice`, {
  1: ['metadata', ObjectMeta],
  2: ['endpoints', Endpoint, 'list'],
  3: [
    'ports',
    message(`${DISCOVERY}.EndpointPort`, {
      1: ['name', 'string', 'ptr'],
      2: ['protocol', 'string', 'ptr'],
      3: ['port', 'int32', 'ptr'],
      4: ['appProtocol', 'string', 'ptr'],
    }),
    'list',
  ],
  4: ['addressType', 'string'],
});

const EVENTS = 'k8s.io.api.events.v1';

export const EventsV1Event = message(`${EVENTS}.Event`, {
  1: ['metadata', ObjectMeta],
  2: ['eventTime', 'microTime'],
  3: [
    'series',
    message(`${EVENTS}.EventSeries`, { 1: ['count', 'int32'], 2: ['lastObservedTime', 'microTime'] }),
  ],
  4: ['reportingController', 'string'],
  5: ['reportingInstance', 'string'],
  6: ['action', 'string'],
  7: ['reason', 'string'],
  8: ['regarding', ObjectReference],
  9: ['related', ObjectReference],
  10: ['note', 'string'],
  11: ['type', 'string'],
  12: ['deprecatedSource', EventSource],
  13: ['deprecatedFirstTimestamp', 'time'],
  14: ['deprecatedLastTimestamp', 'time'],
  15: ['deprecatedCount', 'int32'],
});
