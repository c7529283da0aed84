import {
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type V1Service,
} from '@kubernetes/client-node';
import { pino } from 'pino';
import { readManifests } from '../../apiserver/manifests.ts';
import type { RequestRecord } from '../../apiserver/request-record.ts';
import { type ApiServerHandle, startApiServer } from '../../apiserver/server.ts';
import {
  type ControllerHandle,
  type ControllerOptions,
  startController,
} from '../../controller/shell/controller.ts';
import { reuseConnections } from '../../lab/connection-reuse.ts';
import type { KubeClient } from '../../shared/k8s/client.ts';
import { kubeClientFromText, kubeConfigFor } from '../support/kube-client.ts';

export const NS = 'metalbeacon-system';
const CRDS = new URL('../../config/crd/', import.meta.url).pathname;

/** A test bed: the embedded API server with our CRDs, clients, and controllers to start. */
export interface Bed {
  readonly server: ApiServerHandle;
  readonly kc: KubeConfig;
  /** The client the controllers get (ours; the test's own calls go through client-node). */
  readonly client: KubeClient;
  readonly core: CoreV1Api;
  readonly custom: CustomObjectsApi;
  coordination(): CoordinationV1Api;
  startController(options?: Partial<ControllerOptions>): Promise<ControllerHandle>;
  /** Stops the controller with this Lease identity without releasing the Lease (a crash). */
  crash(identity: string): Promise<void>;
  close(): Promise<void>;
}

/** Fast leases so leader changes take a second or two, not fifteen. */
export const FAST_LEASE = { durationSec: 2, renewDeadlineMs: 1500, retryPeriodMs: 250 };

export async function startBed(
  options: {
    dualStack?: boolean;
    historyLimit?: number;
    onRequestRecord?: (record: RequestRecord) => void;
  } = {},
): Promise<Bed> {
  const server = await startApiServer({
    dualStack: options.dualStack ?? false,
    ...(options.historyLimit ? { historyLimit: options.historyLimit } : {}),
    ...(options.onRequestRecord ? { onRequestRecord: options.onRequestRecord } : {}),
  });
  server.applyObjects(readManifests([CRDS]));
  server.applyObjects([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }] as never);
  const kc = reuseConnections(kubeConfigFor(server.kubeconfigText));
  const controllers: ControllerHandle[] = [];
  /** identity -> controller */
  const byIdentity = new Map<string, ControllerHandle>();
  let n = 0;
  return {
    server,
    kc,
    client: kubeClientFromText(server.kubeconfigText),
    core: kc.makeApiClient(CoreV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
    coordination: () => kc.makeApiClient(CoordinationV1Api),
    async crash(identity) {
      await byIdentity.get(identity)?.stop({ releaseLease: false });
    },
    async startController(extra = {}) {
      const identity = extra.identity ?? `test-${n++}`;
      const controller = await startController({
        // A client of its own per controller, as separate processes would have.
        client: kubeClientFromText(server.kubeconfigText),
        namespace: NS,
        leaderElect: true,
        identity,
        lease: FAST_LEASE,
        log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
        ...extra,
      });
      controllers.push(controller);
      byIdentity.set(identity, controller);
      return controller;
    },
    async close() {
      for (const c of controllers) await c.stop({ releaseLease: false });
      await server.stop();
    },
  };
}

/** Runs `run` against a bed of its own, closed afterwards whatever happens. */
export async function withBed<T>(
  run: (bed: Bed) => Promise<T>,
  options: Parameters<typeof startBed>[0] = {},
): Promise<T> {
  const bed = await startBed(options);
  try {
    return await run(bed);
  } finally {
    await bed.close();
  }
}

/** Creates an IPAddressPool (spec as in the CRD). */
export async function createPool(bed: Bed, name: string, spec: Record<string, unknown>): Promise<void> {
  await bed.custom.createNamespacedCustomObject({
    group: 'metalbeacon.io',
    version: 'v1beta1',
    namespace: NS,
    plural: 'ipaddresspools',
    body: { apiVersion: 'metalbeacon.io/v1beta1', kind: 'IPAddressPool', metadata: { name }, spec },
  });
}

export async function getPool(
  bed: Bed,
  name: string,
): Promise<{ status?: Record<string, unknown> } & object> {
  return bed.custom.getNamespacedCustomObject({
    group: 'metalbeacon.io',
    version: 'v1beta1',
    namespace: NS,
    plural: 'ipaddresspools',
    name,
  });
}

export interface SvcOptions {
  namespace?: string;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  spec?: Record<string, unknown>;
  ports?: { port: number; protocol?: string }[];
}

export async function createService(bed: Bed, name: string, options: SvcOptions = {}): Promise<V1Service> {
  return bed.core.createNamespacedService({
    namespace: options.namespace ?? 'default',
    body: {
      metadata: { name, annotations: options.annotations ?? {}, labels: options.labels ?? {} },
      spec: {
        type: 'LoadBalancer',
        ports: (options.ports ?? [{ port: 80 }]).map((p) => ({ protocol: 'TCP', ...p })),
        selector: { app: name },
        ...(options.spec ?? {}),
      },
    },
  });
}

export async function createNamespace(
  bed: Bed,
  name: string,
  labels: Record<string, string> = {},
): Promise<void> {
  await bed.core.createNamespace({ body: { metadata: { name, labels } } });
}

/** IPs in the Service's status, or [] */
export async function ipsOf(bed: Bed, name: string, namespace = 'default'): Promise<string[]> {
  const svc = await bed.core.readNamespacedService({ name, namespace });
  return (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '');
}

/** key -> IPs of every Service in the cluster */
export async function allIps(bed: Bed): Promise<Map<string, string[]>> {
  const list = await bed.core.listServiceForAllNamespaces();
  return new Map(
    list.items.map((s) => [
      `${s.metadata?.namespace}/${s.metadata?.name}`,
      (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? ''),
    ]),
  );
}

/** Events of a namespace as `object reason: message xCOUNT`. */
export async function eventsOf(
  bed: Bed,
  namespace = 'default',
): Promise<{ object: string; reason: string; message: string; count: number }[]> {
  const list = await bed.core.listNamespacedEvent({ namespace });
  return list.items.map((e) => ({
    object: e.involvedObject.name ?? '',
    reason: e.reason ?? '',
    message: e.message ?? '',
    count: e.count ?? 1,
  }));
}
