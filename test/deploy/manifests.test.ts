import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type {
  V1Container,
  V1DaemonSet,
  V1Deployment,
  V1Job,
  V1PodDisruptionBudget,
  V1Service,
} from '@kubernetes/client-node';
import { parse } from 'yaml';
import { plannedFiles, REPO_ROOT } from '../../scripts/sync-config.ts';
import { runOk, runTool } from '../support/kubectl.ts';
import {
  byKey,
  CHART,
  findObject,
  helmTemplate,
  kustomizeBuild,
  type Manifest,
  normalise,
  objectKey,
  parseManifests,
} from './render.ts';

/**
 * The install manifests, rendered by the real kubectl 1.34 (kustomize) and helm 4: what the
 * issue asks of each object, and the Helm chart rendering the same objects as the kustomize
 * build, object by object.
 */

const NS = 'metalbeacon-system';
const pkgVersion = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string })
  .version;
/** The speaker contract's default --speaker-selector: the peers' Pods must carry these labels. */
const SPEAKER_SELECTOR = {
  'app.kubernetes.io/name': 'metalbeacon',
  'app.kubernetes.io/component': 'speaker',
};

let home: string;
let kustomized: Manifest[];
let helmDefault: Manifest[];

before(async () => {
  home = mkdtempSync(join(tmpdir(), 'mb-deploy-manifests-'));
  [kustomized, helmDefault] = await Promise.all([
    kustomizeBuild('deploy/kustomize/default', home),
    helmTemplate(home),
  ]);
});
after(() => rmSync(home, { recursive: true, force: true }));

function deployment(objects: Manifest[]): V1Deployment {
  return findObject(objects, 'Deployment', 'controller') as unknown as V1Deployment;
}
function daemonSet(objects: Manifest[]): V1DaemonSet {
  return findObject(objects, 'DaemonSet', 'speaker') as unknown as V1DaemonSet;
}
function container(spec: V1Deployment | V1DaemonSet): V1Container {
  const c = spec.spec?.template.spec?.containers[0];
  assert.ok(c, 'the workload has a container');
  return c;
}
/** node with V8 flags, then the script the image's ENTRYPOINT runs: a workload's command. */
function entrypointWith(...nodeArgs: string[]): string[] {
  const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(readFileSync('deploy/Dockerfile', 'utf8'))?.[1];
  const [node, script] = JSON.parse(entrypoint ?? '[]') as string[];
  return [node as string, ...nodeArgs, script as string];
}
/** The value of `--flag=value` in a container's args. */
function flag(c: V1Container, name: string): string | undefined {
  const arg = (c.args ?? []).find((a) => a.startsWith(`${name}=`));
  return arg?.slice(name.length + 1);
}

describe('kustomize build (deploy/kustomize/default)', () => {
  test('holds the namespace, every CRD and RBAC object of config/, the workloads and metrics Services', () => {
    const keys = new Set(kustomized.map(objectKey));
    const fromConfig = [...plannedFiles().entries()]
      .filter(([path]) => !path.endsWith('/kustomization.yaml'))
      .flatMap(([path, text]) => parseManifests(text, path));
    assert.ok(fromConfig.length >= 10, 'config/ holds the CRDs and RBAC');
    for (const obj of fromConfig) {
      const key = objectKey({ ...obj, metadata: { ...obj.metadata, namespace: obj.metadata.namespace } });
      assert.ok(keys.has(key), `${key} from config/ is in the build`);
    }
    for (const key of [
      `v1/Namespace//${NS}`,
      `apps/v1/Deployment/${NS}/controller`,
      `apps/v1/DaemonSet/${NS}/speaker`,
      `policy/v1/PodDisruptionBudget/${NS}/controller`,
      `v1/Service/${NS}/controller-metrics`,
      `v1/Service/${NS}/speaker-metrics`,
    ]) {
      assert.ok(keys.has(key), `${key} is in the build`);
    }
    for (const obj of kustomized) {
      assert.equal(
        obj.metadata.labels?.['app.kubernetes.io/part-of'],
        'metalbeacon',
        `${objectKey(obj)} label`,
      );
    }
    const namespace = findObject(kustomized, 'Namespace', NS);
    assert.equal(namespace.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'privileged');
  });

  test('one ServiceAccount per component, each workload runs under its own', () => {
    const accounts = kustomized.filter((o) => o.kind === 'ServiceAccount').map((o) => o.metadata.name);
    assert.deepEqual(accounts.sort(), ['controller', 'membership-key', 'speaker']);
    assert.equal(deployment(kustomized).spec?.template.spec?.serviceAccountName, 'controller');
    assert.equal(daemonSet(kustomized).spec?.template.spec?.serviceAccountName, 'speaker');
  });

  test('controller: 2 replicas with leader election, a PDB, probes, resources, non-root read-only', () => {
    const d = deployment(kustomized);
    assert.equal(d.spec?.replicas, 2);
    const c = container(d);
    assert.ok(!(c.args ?? []).includes('--no-leader-elect'), 'leader election stays on (the default)');
    assert.equal(c.args?.[c.args.indexOf('controller') - 1]?.startsWith('--'), true, 'global flags first');
    assert.equal(flag(c, '--namespace'), '$(POD_NAMESPACE)');
    assert.equal(flag(c, '--metrics-listen'), '[$(POD_IP)]:7472');
    assert.equal(c.env?.find((e) => e.name === 'POD_IP')?.valueFrom?.fieldRef?.fieldPath, 'status.podIP');
    assert.deepEqual(c.command, entrypointWith('--optimize-for-size'));
    assert.deepEqual(
      c.env?.find((e) => e.name === 'POD_NAMESPACE')?.valueFrom?.fieldRef?.fieldPath,
      'metadata.namespace',
    );
    assert.equal(c.livenessProbe?.httpGet?.path, '/healthz');
    assert.equal(c.readinessProbe?.httpGet?.path, '/readyz');
    assert.equal(c.ports?.find((p) => p.name === 'metrics')?.containerPort, 7472);
    assert.ok(c.resources?.requests?.cpu && c.resources.requests.memory, 'requests');
    assert.ok(c.resources?.limits?.memory, 'memory limit');
    const pod = d.spec?.template.spec;
    assert.equal(pod?.securityContext?.runAsNonRoot, true);
    assert.notEqual(pod?.securityContext?.runAsUser, 0);
    assert.equal(c.securityContext?.readOnlyRootFilesystem, true);
    assert.equal(c.securityContext?.allowPrivilegeEscalation, false);
    assert.deepEqual(c.securityContext?.capabilities, { drop: ['ALL'] });
    const pdb = findObject(
      kustomized,
      'PodDisruptionBudget',
      'controller',
    ) as unknown as V1PodDisruptionBudget;
    assert.deepEqual(pdb.spec?.selector?.matchLabels, d.spec?.selector.matchLabels);
    assert.equal(pdb.spec?.maxUnavailable, 1);
  });

  test('speaker: node --lite-mode, hostNetwork, NET_RAW + NET_BIND_SERVICE + SYS_NICE only, not privileged, downward API, contract labels', () => {
    const ds = daemonSet(kustomized);
    const pod = ds.spec?.template.spec;
    const c = container(ds);
    assert.equal(pod?.hostNetwork, true);
    assert.equal(pod?.dnsPolicy, 'ClusterFirstWithHostNet');
    assert.deepEqual(c.securityContext?.capabilities, {
      drop: ['ALL'],
      add: ['NET_RAW', 'NET_BIND_SERVICE', 'SYS_NICE'],
    });
    // SYS_NICE is for this: the network thread under SCHED_FIFO 1.
    assert.equal(flag(c, '--network-thread-priority'), '1');
    assert.equal(c.securityContext?.privileged, false);
    assert.equal(c.securityContext?.allowPrivilegeEscalation, false);
    assert.equal(c.securityContext?.readOnlyRootFilesystem, true);
    assert.deepEqual(c.command, entrypointWith('--lite-mode'));
    const env = new Map((c.env ?? []).map((e) => [e.name, e.valueFrom?.fieldRef?.fieldPath]));
    assert.equal(env.get('NODE_NAME'), 'spec.nodeName');
    assert.equal(env.get('POD_NAMESPACE'), 'metadata.namespace');
    // Metrics and probes on the node's own address, not on every address of the host network.
    assert.equal(env.get('HOST_IP'), 'status.hostIP');
    assert.equal(flag(c, '--metrics-listen'), '[$(HOST_IP)]:7473');
    assert.deepEqual(ds.spec?.template.metadata?.labels, SPEAKER_SELECTOR);
    assert.deepEqual(ds.spec?.selector.matchLabels, SPEAKER_SELECTOR);
    const keys = (pod?.tolerations ?? []).map((t) => `${t.key}:${t.operator}:${t.effect}`);
    assert.ok(keys.includes('node-role.kubernetes.io/control-plane:Exists:NoSchedule'), keys.join(' '));
    assert.equal(c.livenessProbe?.httpGet?.path, '/healthz');
    assert.equal(c.readinessProbe?.httpGet?.path, '/readyz');
    assert.deepEqual(
      (c.ports ?? []).map((p) => `${p.containerPort}/${p.protocol}`),
      ['7473/TCP', '7951/UDP'],
    );
  });

  test('membership-key Job: named after the release, restricted Pod, the only token that may create Secrets', () => {
    const job = findObject(kustomized, 'Job', `membership-key-${pkgVersion}`) as unknown as V1Job;
    const pod = job.spec?.template.spec;
    assert.ok(pod);
    const c = pod.containers[0]!;
    assert.equal(pod.serviceAccountName, 'membership-key');
    assert.equal(pod.securityContext?.runAsNonRoot, true);
    assert.deepEqual(c.securityContext?.capabilities, { drop: ['ALL'] });
    assert.equal(c.securityContext?.readOnlyRootFilesystem, true);
    assert.deepEqual(c.args, [
      '--log-format=json',
      'membership-key',
      '--namespace=$(POD_NAMESPACE)',
      '--secret=metalbeacon-membership',
    ]);
    assert.equal(c.image, `ghcr.io/metalbeacon/metalbeacon:${pkgVersion}`);
    const account = findObject(kustomized, 'ServiceAccount', 'membership-key');
    assert.equal(account.automountServiceAccountToken, false, 'no other Pod gets its token by accident');
    // Every Role or ClusterRole that may create Secrets: only the Job's.
    const creators = kustomized
      .filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole')
      .filter((o) =>
        ((o.rules ?? []) as { resources?: string[]; verbs: string[] }[]).some(
          (r) => r.resources?.includes('secrets') && (r.verbs.includes('create') || r.verbs.includes('*')),
        ),
      )
      .map((o) => `${o.kind}/${o.metadata.name}`);
    assert.deepEqual(creators, ['Role/membership-key']);
  });

  test('speaker rollout: one node at a time, grace period longer than the BGP drain', () => {
    const ds = daemonSet(kustomized);
    assert.equal(ds.spec?.updateStrategy?.type, 'RollingUpdate');
    assert.equal(ds.spec?.updateStrategy?.rollingUpdate?.maxUnavailable, 1);
    assert.equal(ds.spec?.updateStrategy?.rollingUpdate?.maxSurge, 0);
    const drain = Number(flag(container(ds), '--bgp-shutdown-drain'));
    assert.ok(Number.isInteger(drain) && drain > 0, 'the drain is explicit');
    assert.ok((ds.spec?.template.spec?.terminationGracePeriodSeconds ?? 30) > drain);
    // Restart in place (docs/adr/0013): the peers keep a restarting speaker's L2 IPs.
    assert.equal(flag(container(ds), '--restart-hold'), '10');
  });

  test('metrics Services select the component Pods by their metrics port; the speakers one is headless', () => {
    const controller = findObject(kustomized, 'Service', 'controller-metrics') as unknown as V1Service;
    const speaker = findObject(kustomized, 'Service', 'speaker-metrics') as unknown as V1Service;
    assert.deepEqual(controller.spec?.selector, deployment(kustomized).spec?.selector.matchLabels);
    assert.deepEqual(speaker.spec?.selector, SPEAKER_SELECTOR);
    assert.equal(speaker.spec?.clusterIP, 'None');
    for (const svc of [controller, speaker]) assert.equal(svc.spec?.ports?.[0]?.targetPort, 'metrics');
  });

  test('an overlay with another namespace moves every object and ServiceAccount subject there', async () => {
    const overlay = mkdtempSync(join(tmpdir(), 'mb-deploy-overlay-'));
    try {
      const base = relative(overlay, join(REPO_ROOT, 'deploy/kustomize/default'));
      writeFileSync(
        join(overlay, 'kustomization.yaml'),
        `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: lb-system\nresources:\n  - ${base}\n`,
      );
      const text = await runOk('kubectl', ['kustomize', overlay], { home });
      // Nothing names the default namespace any more: the programs read theirs from the downward API.
      assert.doesNotMatch(text, /metalbeacon-system/);
      const objects = parseManifests(text, 'overlay');
      assert.equal(findObject(objects, 'Namespace', 'lb-system').kind, 'Namespace');
      for (const binding of objects.filter((o) => o.kind.endsWith('Binding'))) {
        for (const subject of binding.subjects as { namespace: string }[])
          assert.equal(subject.namespace, 'lb-system');
      }
    } finally {
      rmSync(overlay, { recursive: true, force: true });
    }
  });

  test('the ServiceMonitor overlay adds exactly one ServiceMonitor over both metrics Services', async () => {
    const withMonitor = await kustomizeBuild('deploy/kustomize/with-servicemonitor', home);
    const extra = withMonitor.filter((o) => !kustomized.some((k) => objectKey(k) === objectKey(o)));
    assert.deepEqual(extra.map(objectKey), [`monitoring.coreos.com/v1/ServiceMonitor/${NS}/metalbeacon`]);
    const spec = extra[0]?.spec as { endpoints: { port: string }[] };
    assert.deepEqual(
      spec.endpoints.map((e) => e.port),
      ['metrics'],
    );
  });
});

describe('Helm chart (deploy/helm/metalbeacon)', () => {
  test('helm lint passes', async () => {
    const result = await runTool('helm', ['lint', CHART, '--strict'], { home });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  test('default values render the kustomize build object by object (Namespace and membership Secret aside)', () => {
    const helm = byKey(helmDefault.map(normalise));
    const kustomize = byKey(kustomized);
    const onlyKustomize = [...kustomize.keys()].filter((k) => !helm.has(k));
    const onlyHelm = [...helm.keys()].filter((k) => !kustomize.has(k));
    // Helm installs into --namespace (--create-namespace) and renders the membership Secret;
    // kustomize cannot make a random key, so a one-shot Job creates it.
    assert.deepEqual(onlyKustomize.sort(), [
      `batch/v1/Job/${NS}/membership-key-${pkgVersion}`,
      `rbac.authorization.k8s.io/v1/Role/${NS}/membership-key`,
      `rbac.authorization.k8s.io/v1/RoleBinding/${NS}/membership-key`,
      `v1/Namespace//${NS}`,
      `v1/ServiceAccount/${NS}/membership-key`,
    ]);
    assert.deepEqual(onlyHelm, [`v1/Secret/${NS}/metalbeacon-membership`]);
    for (const [key, obj] of kustomize) {
      if (onlyKustomize.includes(key)) continue;
      assert.deepEqual(helm.get(key), obj, key);
    }
  });

  test('serviceMonitor.enabled renders the with-servicemonitor overlay', async () => {
    const [helm, overlay] = await Promise.all([
      helmTemplate(home, ['--set', 'serviceMonitor.enabled=true']),
      kustomizeBuild('deploy/kustomize/with-servicemonitor', home),
    ]);
    const a = normalise(findObject(helm, 'ServiceMonitor', 'metalbeacon'));
    const b = findObject(overlay, 'ServiceMonitor', 'metalbeacon');
    assert.deepEqual(a, b);
  });

  test('the CRDs are kept on uninstall by default, and can be left out', async () => {
    for (const crd of helmDefault.filter((o) => o.kind === 'CustomResourceDefinition')) {
      assert.equal(crd.metadata.annotations?.['helm.sh/resource-policy'], 'keep', crd.metadata.name);
    }
    const without = await helmTemplate(home, ['--set', 'crds.install=false']);
    assert.equal(without.filter((o) => o.kind === 'CustomResourceDefinition').length, 0);
    const notKept = await helmTemplate(home, ['--set', 'crds.keep=false']);
    const crds = notKept.filter((o) => o.kind === 'CustomResourceDefinition');
    assert.equal(crds.length, helmDefault.filter((o) => o.kind === 'CustomResourceDefinition').length);
    for (const crd of crds) assert.equal(crd.metadata.annotations?.['helm.sh/resource-policy'], undefined);
  });

  test('speaker.networkThreadPriority: the flag, and CAP_SYS_NICE only while it is above 0', async () => {
    const high = container(
      daemonSet(await helmTemplate(home, ['--set', 'speaker.networkThreadPriority=20'])),
    );
    assert.equal(flag(high, '--network-thread-priority'), '20');
    assert.deepEqual(high.securityContext?.capabilities?.add, ['NET_RAW', 'NET_BIND_SERVICE', 'SYS_NICE']);
    const off = container(daemonSet(await helmTemplate(home, ['--set', 'speaker.networkThreadPriority=0'])));
    assert.equal(flag(off, '--network-thread-priority'), '0');
    assert.deepEqual(off.securityContext?.capabilities?.add, ['NET_RAW', 'NET_BIND_SERVICE']);
    await assert.rejects(
      helmTemplate(home, ['--set', 'speaker.networkThreadPriority=100']),
      /networkThreadPriority/,
    );
  });

  test('values reach the objects: images, node flags, lbClass, logLevel, membership, drain, selectors, tolerations', async () => {
    const objects = await helmTemplate(home, [
      '--namespace',
      'lb',
      '--set',
      'image.repository=registry.example/mb,image.tag=9.9.9,speaker.image.tag=9.9.10',
      '--set',
      'lbClass=example.com/metal,logLevel=debug',
      '--set',
      'speaker.membership.port=7999,speaker.membership.profile=fast,speaker.membership.secretName=mb-keys',
      '--set',
      'speaker.bgpShutdownDrainSeconds=20,speaker.terminationGracePeriodSeconds=60,speaker.restartHoldSeconds=0',
      '--set',
      'speaker.excludeInterfaces=^cali',
      '--set',
      'controller.replicas=3,controller.nodeSelector.role=infra,speaker.nodeSelector.lb=yes',
      '--set-json',
      'speaker.tolerations=[{"operator":"Exists"}]',
      '--set',
      'controller.resources.limits.memory=1Gi',
      '--set-json',
      'controller.nodeArgs=[],speaker.nodeArgs=["--lite-mode","--stack-size=500"]',
    ]);
    const c = container(deployment(objects));
    const s = container(daemonSet(objects));
    assert.equal(c.image, 'registry.example/mb:9.9.9');
    assert.equal(s.image, 'registry.example/mb:9.9.10');
    for (const x of [c, s]) {
      assert.equal(flag(x, '--lb-class'), 'example.com/metal');
      assert.equal(flag(x, '--log-level'), 'debug');
    }
    assert.deepEqual(c.command, entrypointWith());
    assert.deepEqual(s.command, entrypointWith('--lite-mode', '--stack-size=500'));
    assert.equal(flag(s, '--membership-port'), '7999');
    assert.equal(flag(s, '--membership-profile'), 'fast');
    assert.equal(flag(s, '--membership-secret'), 'mb-keys');
    assert.equal(flag(s, '--bgp-shutdown-drain'), '20');
    assert.equal(flag(s, '--restart-hold'), '0');
    assert.equal(flag(s, '--exclude-interfaces'), '^cali');
    assert.equal(flag(s, '--network-thread-priority'), '1');
    assert.deepEqual(
      (s.ports ?? []).map((p) => `${p.containerPort}/${p.protocol}`),
      ['7473/TCP', '7999/UDP'],
    );
    assert.equal(daemonSet(objects).spec?.template.spec?.terminationGracePeriodSeconds, 60);
    assert.equal(deployment(objects).spec?.replicas, 3);
    assert.deepEqual(deployment(objects).spec?.template.spec?.nodeSelector, {
      'kubernetes.io/os': 'linux',
      role: 'infra',
    });
    assert.equal(daemonSet(objects).spec?.template.spec?.nodeSelector?.lb, 'yes');
    assert.deepEqual(daemonSet(objects).spec?.template.spec?.tolerations, [{ operator: 'Exists' }]);
    assert.equal(c.resources?.limits?.memory, '1Gi');
    const secret = findObject(objects, 'Secret', 'mb-keys');
    assert.equal(secret.metadata.namespace, 'lb');
    // Every namespaced object, and every ServiceAccount subject, follows the release namespace.
    for (const obj of objects) {
      if (obj.metadata.namespace !== undefined) assert.equal(obj.metadata.namespace, 'lb', objectKey(obj));
      for (const subject of (obj.subjects as { namespace?: string }[] | undefined) ?? []) {
        assert.equal(subject.namespace, 'lb', objectKey(obj));
      }
    }
  });

  test('the speaker Role names the Secrets it reads: the membership Secret of the values, and speaker.bgpPasswordSecrets', async () => {
    const secretRules = (objects: Manifest[]) =>
      (
        (findObject(objects, 'Role', 'speaker').rules ?? []) as {
          resources: string[];
          resourceNames?: string[];
          verbs: string[];
        }[]
      )
        .filter((r) => r.resources.includes('secrets'))
        .map((r) => ({ names: r.resourceNames, verbs: r.verbs }));
    assert.deepEqual(secretRules(helmDefault), [{ names: ['metalbeacon-membership'], verbs: ['get'] }]);
    const custom = await helmTemplate(home, [
      '--set',
      'speaker.membership.secretName=mb-keys',
      '--set-json',
      'speaker.bgpPasswordSecrets=["router-a","router-b"]',
    ]);
    assert.deepEqual(secretRules(custom), [
      { names: ['mb-keys'], verbs: ['get'] },
      { names: ['router-a', 'router-b'], verbs: ['get'] },
    ]);
  });

  test('metricsProxy: the programs on 127.0.0.1, a kube-rbac-proxy sidecar on the metrics port, HTTPS probes, the RBAC it needs', async () => {
    const objects = await helmTemplate(home, [
      '--set',
      'metricsProxy.enabled=true,metricsProxy.image=registry.example/kube-rbac-proxy:v0.19.1,serviceMonitor.enabled=true',
    ]);
    for (const [workload, port, upstream, address] of [
      [deployment(objects), 7472, 7482, 'POD_IP'],
      [daemonSet(objects), 7473, 7483, 'HOST_IP'],
    ] as const) {
      const containers = workload.spec?.template.spec?.containers ?? [];
      const [program, proxy] = containers;
      assert.equal(containers.length, 2);
      assert.ok(program && proxy);
      assert.equal(flag(program, '--metrics-listen'), `127.0.0.1:${upstream}`);
      assert.equal(
        (program.ports ?? []).some((p) => p.name === 'metrics'),
        false,
        'the port is the sidecar’s',
      );
      for (const probe of [program.livenessProbe, program.readinessProbe]) {
        assert.deepEqual([probe?.httpGet?.port, probe?.httpGet?.scheme], [port, 'HTTPS']);
      }
      assert.equal(proxy.image, 'registry.example/kube-rbac-proxy:v0.19.1');
      assert.deepEqual(proxy.args, [
        `--secure-listen-address=[$(${address})]:${port}`,
        `--upstream=http://127.0.0.1:${upstream}/`,
        '--ignore-paths=/healthz,/readyz',
      ]);
      assert.deepEqual(
        proxy.ports?.map((p) => `${p.name}:${p.containerPort}`),
        [`metrics:${port}`],
      );
      assert.equal(proxy.securityContext?.runAsNonRoot, true);
      assert.deepEqual(proxy.securityContext?.capabilities, { drop: ['ALL'] });
    }
    // The only RBAC added: what the proxy asks the API server, and a role for the scraper.
    const extra = objects
      .filter(
        (o) => o.kind.startsWith('ClusterRole') && !helmDefault.some((d) => objectKey(d) === objectKey(o)),
      )
      .map((o) => ({ kind: o.kind, name: o.metadata.name, rules: o.rules, subjects: o.subjects }))
      .sort((a, b) => `${a.kind} ${a.name}`.localeCompare(`${b.kind} ${b.name}`));
    assert.deepEqual(extra, [
      {
        kind: 'ClusterRole',
        name: 'metalbeacon:metrics-proxy',
        rules: [
          { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
          { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
        ],
        subjects: undefined,
      },
      {
        kind: 'ClusterRole',
        name: 'metalbeacon:metrics-reader',
        rules: [{ nonResourceURLs: ['/metrics'], verbs: ['get'] }],
        subjects: undefined,
      },
      {
        kind: 'ClusterRoleBinding',
        name: 'metalbeacon:metrics-proxy',
        rules: undefined,
        subjects: [
          { kind: 'ServiceAccount', name: 'controller', namespace: NS },
          { kind: 'ServiceAccount', name: 'speaker', namespace: NS },
        ],
      },
    ]);
    const monitor = findObject(objects, 'ServiceMonitor', 'metalbeacon') as {
      spec?: { endpoints?: { scheme?: string }[] };
    };
    assert.equal(monitor.spec?.endpoints?.[0]?.scheme, 'https');
  });

  test('a fresh render makes a random membership key of 32 characters', async () => {
    const [a, b] = await Promise.all([helmTemplate(home), helmTemplate(home)]);
    const key = (objects: Manifest[]): string =>
      Buffer.from(
        (findObject(objects, 'Secret', 'metalbeacon-membership').data as { key: string }).key,
        'base64',
      ).toString();
    assert.match(key(a), /^[A-Za-z0-9]{32}$/);
    assert.notEqual(key(a), key(b));
  });

  test('bad values fail with a message naming the value', async () => {
    const cases: [string[], RegExp][] = [
      [['--set', 'logLevel=loud'], /\/logLevel/],
      [['--set', 'speaker.membership.profile=turbo'], /\/speaker\/membership\/profile/],
      [['--set', 'speaker.membership.port=70000'], /\/speaker\/membership\/port/],
      [['--set', 'controller.replicaz=2'], /replicaz/],
      [['--set-json', 'speaker.bgpPasswordSecrets=["Not A Name"]'], /\/speaker\/bgpPasswordSecrets\/0/],
      [['--set', 'metricsProxy.enabled=true'], /metricsProxy.image: set the kube-rbac-proxy image/],
      [
        ['--set', 'speaker.terminationGracePeriodSeconds=5'],
        /terminationGracePeriodSeconds \(5\) must exceed/,
      ],
    ];
    for (const [args, message] of cases) {
      const result = await runTool('helm', ['template', 'x', CHART, ...args], { home });
      assert.notEqual(result.code, 0, args.join(' '));
      assert.match(result.stderr, message, args.join(' '));
    }
  });

  test('helm package stores the files config/ links to: the packaged chart renders the same objects', async () => {
    const out = await runTool('helm', ['package', CHART, '--destination', home], { home });
    assert.equal(out.code, 0, out.stderr);
    const archive = join(home, `metalbeacon-${pkgVersion}.tgz`);
    const packaged = await helmTemplate(home, [], archive);
    const withoutKey = (objects: Manifest[]) =>
      objects.map((o) => (o.kind === 'Secret' ? { ...o, data: undefined } : o));
    assert.deepEqual(withoutKey(packaged), withoutKey(helmDefault));
  });

  test('chart version, appVersion and the kustomize image tag follow package.json', () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    const chart = parse(readFileSync(join(REPO_ROOT, CHART, 'Chart.yaml'), 'utf8')) as Record<string, string>;
    assert.equal(chart.version, pkg.version);
    assert.equal(chart.appVersion, pkg.version);
    assert.equal(container(deployment(kustomized)).image, `ghcr.io/metalbeacon/metalbeacon:${pkg.version}`);
    assert.equal(container(daemonSet(kustomized)).image, `ghcr.io/metalbeacon/metalbeacon:${pkg.version}`);
  });
});
