/**
 * Descriptors of the k8s.io/api core/v1 kinds this server stores (field numbers from
 * core/v1/generated.proto). Pods live in `kinds-pod.ts`.
 */
import { message } from './codec.ts';
import { Condition, condition, ObjectMeta } from './kinds-meta.ts';

const CORE = 'k8s.io.api.core.v1';

export const ObjectReference = message(`${CORE}.ObjectReference`, {
  1: ['kind', 'string'],
  2: ['namespace', 'string'],
  3: ['name', 'string'],
  4: ['uid', 'string'],
  5: ['apiVersion', 'string'],
  6: ['resourceVersion', 'string'],
  7: ['fieldPath', 'string'],
});

export const LocalObjectReference = message(`${CORE}.LocalObjectReference`, { 1: ['name', 'string'] });

const ServicePort = message(`${CORE}.ServicePort`, {
  1: ['name', 'string'],
  2: ['protocol', 'string'],
  3: ['port', 'int32'],
  4: ['targetPort', 'intOrString'],
  5: ['nodePort', 'int32'],
  6: ['appProtocol', 'string', 'ptr'],
});

const SessionAffinityConfig = message(`${CORE}.SessionAffinityConfig`, {
  1: ['clientIP', message(`${CORE}.ClientIPConfig`, { 1: ['timeoutSeconds', 'int32', 'ptr'] })],
});

const ServiceSpec = message(`${CORE}.ServiceSpec`, {
  1: ['ports', ServicePort, 'list'],
  2: ['selector', 'string', 'map'],
  3: ['clusterIP', 'string'],
  4: ['type', 'string'],
  5: ['externalIPs', 'string', 'list'],
  7: ['sessionAffinity', 'string'],
  8: ['loadBalancerIP', 'string'],
  9: ['loadBalancerSourceRanges', 'string', 'list'],
  10: ['externalName', 'string'],
  11: ['externalTrafficPolicy', 'string'],
  12: ['healthCheckNodePort', 'int32'],
  13: ['publishNotReadyAddresses', 'bool'],
  14: ['sessionAffinityConfig', SessionAffinityConfig],
  17: ['ipFamilyPolicy', 'string', 'ptr'],
  18: ['clusterIPs', 'string', 'list'],
  19: ['ipFamilies', 'string', 'list'],
  20: ['allocateLoadBalancerNodePorts', 'bool', 'ptr'],
  21: ['loadBalancerClass', 'string', 'ptr'],
  22: ['internalTrafficPolicy', 'string', 'ptr'],
  23: ['trafficDistribution', 'string', 'ptr'],
});

const PortStatus = message(`${CORE}.PortStatus`, {
  1: ['port', 'int32'],
  2: ['protocol', 'string'],
  3: ['error', 'string', 'ptr'],
});

const LoadBalancerIngress = message(`${CORE}.LoadBalancerIngress`, {
  1: ['ip', 'string'],
  2: ['hostname', 'string'],
  3: ['ipMode', 'string', 'ptr'],
  4: ['ports', PortStatus, 'list'],
});

const ServiceStatus = message(`${CORE}.ServiceStatus`, {
  1: ['loadBalancer', message(`${CORE}.LoadBalancerStatus`, { 1: ['ingress', LoadBalancerIngress, 'list'] })],
  2: ['conditions', Condition, 'list'],
});

export const Service = message(`${CORE}.Service`, {
  1: ['metadata', ObjectMeta],
  2: ['spec', ServiceSpec],
  3: ['status', ServiceStatus],
});

const NamespaceCondition = condition(`${CORE}.NamespaceCondition`, { 4: ['lastTransitionTime', 'time'] });

export const Namespace = message(`${CORE}.Namespace`, {
  1: ['metadata', ObjectMeta],
  2: ['spec', message(`${CORE}.NamespaceSpec`, { 1: ['finalizers', 'string', 'list'] })],
  3: [
    'status',
    message(`${CORE}.NamespaceStatus`, {
      1: ['phase', 'string'],
      2: ['conditions', NamespaceCondition, 'list'],
    }),
  ],
});

export const ConfigMap = message(`${CORE}.ConfigMap`, {
  1: ['metadata', ObjectMeta],
  2: ['data', 'string', 'map'],
  3: ['binaryData', 'bytes', 'map'],
  4: ['immutable', 'bool', 'ptr'],
});

export const Secret = message(`${CORE}.Secret`, {
  1: ['metadata', ObjectMeta],
  2: ['data', 'bytes', 'map'],
  3: ['type', 'string'],
  4: ['stringData', 'string', 'map'],
  5: ['immutable', 'bool', 'ptr'],
});

export const ServiceAccount = message(`${CORE}.ServiceAccount`, {
  1: ['metadata', ObjectMeta],
  2: ['secrets', ObjectReference, 'list'],
  3: ['imagePullSecrets', LocalObjectReference, 'list'],
  4: ['automountServiceAccountToken', 'bool', 'ptr'],
});

const EndpointAddress = message(`${CORE}.EndpointAddress`, {
  1: ['ip', 'string'],
  2: ['targetRef', ObjectReference],
  3: ['hostname', 'string'],
  4: ['nodeName', 'string', 'ptr'],
});

const EndpointPort = message(`${CORE}.EndpointPort`, {
  1: ['name', 'string'],
  2: ['port', 'int32'],
  3: ['protocol', 'string'],
  4: ['appProtocol', 'string', 'ptr'],
});

const EndpointSubset = message(`${CORE}.EndpointSubset`, {
  1: ['addresses', EndpointAddress, 'list'],
  2: ['notReadyAddresses', EndpointAddress, 'list'],
  3: ['ports', EndpointPort, 'list'],
});

export const Endpoints = message(`${CORE}.Endpoints`, {
  1: ['metadata', ObjectMeta],
  2: ['subsets', EndpointSubset, 'list'],
});

export const Taint = message(`${CORE}.Taint`, {
  1: ['key', 'string'],
  2: ['value', 'string'],
  3: ['effect', 'string'],
  4: ['timeAdded', 'time'],
});

const NodeSpec = message(`${CORE}.NodeSpec`, {
  1: ['podCIDR', 'string'],
  2: ['externalID', 'string'],
  3: ['providerID', 'string'],
  4: ['unschedulable', 'bool'],
  5: ['taints', Taint, 'list'],
  7: ['podCIDRs', 'string', 'list'],
});

const NodeCondition = condition(`${CORE}.NodeCondition`, {
  3: ['lastHeartbeatTime', 'time'],
  4: ['lastTransitionTime', 'time'],
});

const NodeSystemInfo = message(`${CORE}.NodeSystemInfo`, {
  1: ['machineID', 'string'],
  2: ['systemUUID', 'string'],
  3: ['bootID', 'string'],
  4: ['kernelVersion', 'string'],
  5: ['osImage', 'string'],
  6: ['containerRuntimeVersion', 'string'],
  7: ['kubeletVersion', 'string'],
  8: ['kubeProxyVersion', 'string'],
  9: ['operatingSystem', 'string'],
  10: ['architecture', 'string'],
});

const NodeStatus = message(`${CORE}.NodeStatus`, {
  1: ['capacity', 'quantity', 'map'],
  2: ['allocatable', 'quantity', 'map'],
  3: ['phase', 'string'],
  4: ['conditions', NodeCondition, 'list'],
  5: [
    'addresses',
    message(`${CORE}.NodeAddress`, { 1: ['type', 'string'], 2: ['address', 'string'] }),
    'list',
  ],
  6: [
    'daemonEndpoints',
    message(`${CORE}.NodeDaemonEndpoints`, {
      1: ['kubeletEndpoint', message(`${CORE}.DaemonEndpoint`, { 1: ['Port', 'int32'] })],
    }),
  ],
  7: ['nodeInfo', NodeSystemInfo],
});

export const Node = message(`${CORE}.Node`, {
  1: ['metadata', ObjectMeta],
  2: ['spec', NodeSpec],
  3: ['status', NodeStatus],
});

export const EventSource = message(`${CORE}.EventSource`, {
  1: ['component', 'string'],
  2: ['host', 'string'],
});

const EventSeries = message(`${CORE}.EventSeries`, {
  1: ['count', 'int32'],
  2: ['lastObservedTime', 'microTime'],
});

export const Event = message(`${CORE}.Event`, {
  1: ['metadata', ObjectMeta],
  2: ['involvedObject', ObjectReference],
  3: ['reason', 'string'],
  4: ['message', 'string'],
  5: ['source', EventSource],
  6: ['firstTimestamp', 'time'],
  7: ['lastTimestamp', 'time'],
  8: ['count', 'int32'],
  9: ['type', 'string'],
  10: ['eventTime', 'microTime'],
  11: ['series', EventSeries],
  12: ['action', 'string'],
  13: ['related', ObjectReference],
  14: ['reportingComponent', 'string'],
  15: ['reportingInstance', 'string'],
});
