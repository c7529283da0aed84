/**
 * Descriptors of Pods and pod templates (core/v1 generated.proto), for Pods, Deployments,
 * DaemonSets and Jobs. The commonly written part of PodSpec and Container: fields outside it
 * (volumes, probes, security contexts, env sources, affinity …) are refused when decoding and
 * make the server answer in JSON when encoding, so nothing is dropped.
 */
import { message } from './codec.ts';
import { LocalObjectReference } from './kinds-core.ts';
import { condition, ObjectMeta } from './kinds-meta.ts';

const CORE = 'k8s.io.api.core.v1';

const ContainerPort = message(`${CORE}.ContainerPort`, {
  1: ['name', 'string'],
  2: ['hostPort', 'int32'],
  3: ['containerPort', 'int32'],
  4: ['protocol', 'string'],
  5: ['hostIP', 'string'],
});

const EnvVar = message(`${CORE}.EnvVar`, { 1: ['name', 'string'], 2: ['value', 'string'] });

const ResourceRequirements = message(`${CORE}.ResourceRequirements`, {
  1: ['limits', 'quantity', 'map'],
  2: ['requests', 'quantity', 'map'],
});

const VolumeMount = message(`${CORE}.VolumeMount`, {
  1: ['name', 'string'],
  2: ['readOnly', 'bool'],
  3: ['mountPath', 'string'],
  4: ['subPath', 'string'],
  5: ['mountPropagation', 'string', 'ptr'],
  6: ['subPathExpr', 'string'],
});

const Container = message(`${CORE}.Container`, {
  1: ['name', 'string'],
  2: ['image', 'string'],
  3: ['command', 'string', 'list'],
  4: ['args', 'string', 'list'],
  5: ['workingDir', 'string'],
  6: ['ports', ContainerPort, 'list'],
  7: ['env', EnvVar, 'list'],
  8: ['resources', ResourceRequirements],
  9: ['volumeMounts', VolumeMount, 'list'],
  13: ['terminationMessagePath', 'string'],
  14: ['imagePullPolicy', 'string'],
  16: ['stdin', 'bool'],
  17: ['stdinOnce', 'bool'],
  18: ['tty', 'bool'],
  20: ['terminationMessagePolicy', 'string'],
});

const Toleration = message(`${CORE}.Toleration`, {
  1: ['key', 'string'],
  2: ['operator', 'string'],
  3: ['value', 'string'],
  4: ['effect', 'string'],
  5: ['tolerationSeconds', 'int64', 'ptr'],
});

const PodSpec = message(`${CORE}.PodSpec`, {
  2: ['containers', Container, 'list'],
  3: ['restartPolicy', 'string'],
  4: ['terminationGracePeriodSeconds', 'int64', 'ptr'],
  5: ['activeDeadlineSeconds', 'int64', 'ptr'],
  6: ['dnsPolicy', 'string'],
  7: ['nodeSelector', 'string', 'map'],
  8: ['serviceAccountName', 'string'],
  9: ['serviceAccount', 'string'],
  10: ['nodeName', 'string'],
  11: ['hostNetwork', 'bool'],
  12: ['hostPID', 'bool'],
  13: ['hostIPC', 'bool'],
  15: ['imagePullSecrets', LocalObjectReference, 'list'],
  16: ['hostname', 'string'],
  17: ['subdomain', 'string'],
  19: ['schedulerName', 'string'],
  20: ['initContainers', Container, 'list'],
  21: ['automountServiceAccountToken', 'bool', 'ptr'],
  22: ['tolerations', Toleration, 'list'],
  24: ['priorityClassName', 'string'],
  25: ['priority', 'int32', 'ptr'],
  27: ['shareProcessNamespace', 'bool', 'ptr'],
  30: ['enableServiceLinks', 'bool', 'ptr'],
  31: ['preemptionPolicy', 'string', 'ptr'],
});

export const PodTemplateSpec = message(`${CORE}.PodTemplateSpec`, {
  1: ['metadata', ObjectMeta],
  2: ['spec', PodSpec],
});

const PodCondition = condition(`${CORE}.PodCondition`, {
  3: ['lastProbeTime', 'time'],
  4: ['lastTransitionTime', 'time'],
});

const PodIP = message(`${CORE}.PodIP`, { 1: ['ip', 'string'] });

const PodStatus = message(`${CORE}.PodStatus`, {
  1: ['phase', 'string'],
  2: ['conditions', PodCondition, 'list'],
  3: ['message', 'string'],
  4: ['reason', 'string'],
  5: ['hostIP', 'string'],
  6: ['podIP', 'string'],
  7: ['startTime', 'time'],
  9: ['qosClass', 'string'],
  11: ['nominatedNodeName', 'string'],
  12: ['podIPs', PodIP, 'list'],
  16: ['hostIPs', message(`${CORE}.HostIP`, { 1: ['ip', 'string'] }), 'list'],
});

export const Pod = message(`${CORE}.Pod`, {
  1: ['metadata', ObjectMeta],
  2: ['spec', PodSpec],
  3: ['status', PodStatus],
});
