import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { pino } from 'pino';
import type { AuditEntry } from '../../apiserver/authorization.ts';
import { readManifests } from '../../apiserver/manifests.ts';
import { authorize, serviceAccountUser } from '../../apiserver/rbac.ts';
import type { RequestAttributes } from '../../apiserver/request-attributes.ts';
import { type ControllerHandle, startController } from '../../controller/shell/controller.ts';
import { REPO_ROOT } from '../../scripts/sync-config.ts';
import { KubeClient } from '../../shared/k8s/client.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import { statusLabelValue } from '../../speaker/announce/statuses.ts';
import { nativeSocketOptions } from '../../speaker/bgp/native-socket.ts';
import type { SpeakerHandle } from '../../speaker/shell/options.ts';
import { type ForwardingProxy, startProxy } from '../controller/proxy.ts';
import {
  type Bed,
  createCr,
  createNode,
  createSpeakerPod,
  listCrs,
  setEndpoints,
  startBed,
} from '../speaker/harness.ts';
import { freePort } from '../support/free-port.ts';
import { describeRequest, grantsOf, policyOf, refusedRequests, unusedGrants } from './rbac-usage.ts';
import { findObject, helmTemplate, kustomizeBuild, type Manifest, normalise } from './render.ts';

/**
 * Least privilege, derived from the code: every program of the install runs against the
 * embedded API server under its own ServiceAccount with the install's RBAC enforced, through a
 * scenario that takes each of its paths that talks to the API (the membership-key Job twice;
 * the controller allocating, meeting a 409 Conflict, writing pool status, counting a repeated
 * event, holding and releasing its Lease; the speaker reading its two kinds of Secret,
 * announcing over L2 and BGP, repairing and deleting its status objects, collecting a gone
 * node's, leaving). The server records every decision. Then, for config/rbac, the kustomize
 * build and the Helm chart (default values, and with speaker.bgpPasswordSecrets): no request was
 * or would be refused, and every grant was needed by at least one request — a grant no request
 * needed fails the test. Nothing leaves loopback: L2 on no interface, BGP to a `metalbeacon bgp`
 * peer on 127.0.0.2.
 */

const NS = 'metalbeacon-system';
const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const RBAC_KINDS = new Set(['ServiceAccount', 'Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding']);
const BIN = join(REPO_ROOT, 'bin/metalbeacon.js');
const PASSWORD = 'rbac-md5-key';
const users = {
  controller: serviceAccountUser(NS, 'controller'),
  speaker: serviceAccountUser(NS, 'speaker'),
  membershipKey: serviceAccountUser(NS, 'membership-key'),
};
const run = promisify(execFile);

const audit: AuditEntry[] = [];
let home: string;
let bed: Bed;
let kustomized: Manifest[];
let helmDefault: Manifest[];
let helmPasswords: Manifest[];
let proxy: ForwardingProxy | undefined;
let controller: ControllerHandle | undefined;
let speaker: SpeakerHandle | undefined;
let speakerClient: KubeClient | undefined;
let peer: ChildProcess | undefined;
const peerLog: string[] = [];
const speakerLog: string[] = [];

/** A client with the ServiceAccount's token, talking to `url` (the server, or the proxy in front of it). */
function serviceAccountClient(account: string, url: string): KubeClient {
  const config = JSON.parse(bed.server.serviceAccountKubeconfig(NS, account)) as {
    users: { user: { token: string } }[];
  };
  const token = config.users[0]!.user.token;
  return new KubeClient({
    server: new URL(url),
    tls: { rejectUnauthorized: true },
    headers: async () => ({ authorization: `Bearer ${token}` }),
  });
}

async function servedIp(name: string): Promise<string> {
  return waitFor(`${name} has an IP and its pool annotation`, async () => {
    const svc = await bed.core.readNamespacedService({ name, namespace: 'default' });
    const ip = svc.status?.loadBalancer?.ingress?.[0]?.ip;
    return ip && svc.metadata?.annotations?.['metalbeacon.io/ip-allocated-from-pool'] ? ip : undefined;
  });
}

/** A LoadBalancer Service in default, as a user creates it (the controller writes its status). */
async function createLoadBalancer(name: string, annotations: Record<string, string> = {}): Promise<void> {
  await bed.core.createNamespacedService({
    namespace: 'default',
    body: {
      metadata: { name, annotations },
      spec: { type: 'LoadBalancer', ports: [{ port: 80, protocol: 'TCP' }], selector: { app: name } },
    },
  });
}

async function eventCount(object: string, reason: string, namespace: string): Promise<number> {
  const list = await bed.core.listNamespacedEvent({ namespace });
  const event = list.items.find((e) => e.involvedObject.name === object && e.reason === reason);
  return event?.count ?? 0;
}

before(async () => {
  home = mkdtempSync(join(tmpdir(), 'mb-deploy-rbac-'));
  [kustomized, helmDefault, helmPasswords] = await Promise.all([
    kustomizeBuild('deploy/kustomize/default', home),
    helmTemplate(home),
    helmTemplate(home, ['--set-json', 'speaker.bgpPasswordSecrets=["router-password"]']),
  ]);
  bed = await startBed({ onAudit: (entry) => audit.push(entry) });
  // The install makes the membership Secret; here the Job's program does.
  bed.server.deleteObject('v1', 'Secret', NS, 'metalbeacon-membership');
  // Enforced: the kustomize build's RBAC, with the speaker Role as Helm renders it when a
  // BGPPeer's password Secret is named (the speaker reads one in this scenario).
  const speakerRole = normalise(findObject(helmPasswords, 'Role', 'speaker'));
  const enforced = kustomized
    .filter((o) => RBAC_KINDS.has(o.kind))
    .map((o) => (o.kind === 'Role' && o.metadata.name === 'speaker' ? speakerRole : o));
  bed.server.applyObjects(enforced as never);
});

after(async () => {
  await speaker?.kill();
  speakerClient?.close();
  await controller?.stop({ releaseLease: false });
  await proxy?.close();
  if (peer && peer.exitCode === null) peer.kill('SIGKILL');
  await bed?.close();
  rmSync(home, { recursive: true, force: true });
});

describe('the programs under the install RBAC, enforced', () => {
  test('membership-key (the kustomize Job) creates the membership Secret, then leaves it as it is', async () => {
    const kubeconfig = join(home, 'membership-key.kubeconfig');
    writeFileSync(kubeconfig, bed.server.serviceAccountKubeconfig(NS, 'membership-key'));
    const args = [
      BIN,
      '--log-format',
      'json',
      '--kubeconfig',
      kubeconfig,
      'membership-key',
      '--namespace',
      NS,
    ];
    const first = await run(process.execPath, args);
    assert.match(first.stderr + first.stdout, /created the membership Secret with a random key/);
    const second = await run(process.execPath, args);
    assert.match(second.stderr + second.stdout, /the membership Secret exists; left as it is/);
    const secret = await bed.core.readNamespacedSecret({ name: 'metalbeacon-membership', namespace: NS });
    assert.equal(Buffer.from(secret.data?.key ?? '', 'base64').length, 32);
  });

  test('controller: allocation, a 409 Conflict read again, pool status, a repeated event, its Lease', async () => {
    proxy = await startProxy(bed.server.url);
    await createCr(bed, 'IPAddressPool', 'ipaddresspools', 'pool', { addresses: ['198.51.100.0/28'] });
    controller = await startController({
      client: serviceAccountClient('controller', proxy.url),
      namespace: NS,
      leaderElect: true,
      identity: 'rbac-test',
      lease: { durationSec: 2, renewDeadlineMs: 1500, retryPeriodMs: 250 },
      log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    });
    await waitFor('the controller leads', () => controller!.isLeader());
    await createLoadBalancer('web');
    await servedIp('web');

    // Another writer changes the Service between the controller's read and its status write.
    const statusPath = '/api/v1/namespaces/default/services/conflict/status';
    proxy.before(
      (method, path) => method === 'PATCH' && path === statusPath,
      async () => {
        await bed.core.patchNamespacedService(
          { name: 'conflict', namespace: 'default', body: { metadata: { labels: { team: 'other' } } } },
          MERGE,
        );
      },
    );
    await createLoadBalancer('conflict');
    await servedIp('conflict');
    assert.ok(
      proxy.log.some((r) => r.method === 'PATCH' && r.path.startsWith(statusPath) && r.status === 409),
      'the status write met a Conflict',
    );

    // A Service asking for an IP no pool holds, then one it may have, then the first again: the
    // same Warning in the Service's namespace counts up (a patch outside our namespace).
    const ask = async (ip: string) =>
      bed.core.patchNamespacedService(
        {
          name: 'picky',
          namespace: 'default',
          body: { metadata: { annotations: { 'metalbeacon.io/loadBalancerIPs': ip } } },
        },
        MERGE,
      );
    await createLoadBalancer('picky', { 'metalbeacon.io/loadBalancerIPs': '203.0.113.50' });
    await waitFor(
      'the LoadBalancerFailed event',
      async () => (await eventCount('picky', 'LoadBalancerFailed', 'default')) === 1,
    );
    await ask('198.51.100.14');
    await waitFor('picky served', async () => (await servedIp('picky')) === '198.51.100.14');
    await ask('203.0.113.50');
    await waitFor(
      'the repeated Service event counted',
      async () => (await eventCount('picky', 'LoadBalancerFailed', 'default')) === 2,
    );

    // A configuration error, fixed, then made again: the same event counts up (a patch).
    await createCr(bed, 'IPAddressPool', 'ipaddresspools', 'overlap', {
      addresses: ['198.51.100.8/29'],
      autoAssign: false,
    });
    await waitFor(
      'the ConfigurationError event',
      async () => (await eventCount('overlap', 'ConfigurationError', NS)) === 1,
    );
    const pool = (addresses: string[]) => ({
      group: 'metalbeacon.io',
      version: 'v1beta1',
      namespace: NS,
      plural: 'ipaddresspools',
      name: 'overlap',
      body: { spec: { addresses } },
    });
    await bed.custom.patchNamespacedCustomObject(pool(['198.51.100.64/29']), MERGE);
    await waitFor('the overlap pool valid', async () => {
      const status = (await bed.custom.getNamespacedCustomObject(pool([]))) as {
        status?: { conditions?: { type: string; status: string }[] };
      };
      return status.status?.conditions?.some((c) => c.type === 'ConfigValid' && c.status === 'True');
    });
    await bed.custom.patchNamespacedCustomObject(pool(['198.51.100.8/29']), MERGE);
    await waitFor(
      'the repeated event counted',
      async () => (await eventCount('overlap', 'ConfigurationError', NS)) === 2,
    );
    // Valid again for what follows: a configuration error keeps the speaker from loading any.
    await bed.custom.patchNamespacedCustomObject(pool(['198.51.100.64/29']), MERGE);
  });

  test('speaker: its Secrets by name, L2 and BGP announcements, status objects repaired, deleted and collected', async () => {
    // The BGP peer: our own BGP speaker, passive, on loopback, with the same MD5 key.
    const port = await freePort('127.0.0.2');
    const passwordFile = join(home, 'md5');
    writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
    peer = spawn(
      process.execPath,
      [
        BIN,
        ...[
          '--log-format',
          'json',
          'bgp',
          '--local-as',
          '65000',
          '--peer-as',
          '65001',
          '--peer',
          '127.0.0.1',
        ],
        ...['--router-id', '192.0.2.254', '--passive', '--listen-address', '127.0.0.2'],
        ...['--listen-port', String(port), '--password-file', passwordFile, '--drain-time', '0'],
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    for (const stream of [peer.stdout, peer.stderr])
      stream?.on('data', (d: Buffer) => peerLog.push(d.toString()));
    bed.server.applyObjects([
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'router-password', namespace: NS },
        type: 'kubernetes.io/basic-auth',
        stringData: { password: PASSWORD },
      },
      // A status object of a node whose speaker is gone: the first garbage collection takes it.
      {
        apiVersion: 'metalbeacon.io/v1beta1',
        kind: 'ServiceL2Status',
        metadata: {
          name: 'left-behind',
          namespace: NS,
          labels: { 'metalbeacon.io/node': statusLabelValue('node-gone') },
        },
      },
    ] as never);
    await createCr(bed, 'L2Advertisement', 'l2advertisements', 'l2', { ipAddressPools: ['pool'] });
    await createCr(bed, 'BGPPeer', 'bgppeers', 'router', {
      myASN: 65001,
      peerASN: 65000,
      peerAddress: '127.0.0.2',
      peerPort: port,
      sourceAddress: '127.0.0.1',
      passwordSecret: { name: 'router-password' },
    });
    await createCr(bed, 'BGPAdvertisement', 'bgpadvertisements', 'bgp', { ipAddressPools: ['pool'] });
    await createNode(bed, 'node-a', '192.0.2.11');
    await createSpeakerPod(bed, 'node-a', '127.0.0.1');
    await setEndpoints(bed, 'web', ['node-a']);

    speakerClient = serviceAccountClient('speaker', bed.server.url);
    speaker = await bed.startSpeaker('node-a', '127.0.0.1', {
      client: speakerClient,
      socketOptions: nativeSocketOptions(),
      secretRefreshMs: 500,
      log: pino({ level: 'info' }, { write: (line: string) => void speakerLog.push(line) }),
    });
    await waitFor('the BGP session Established', async () => {
      const state = (await listCrs(bed, 'bgpsessionstates')).find((o) => o.metadata.name === 'node-a.router');
      return state?.status?.state === 'Established';
    }).catch((error: Error) => {
      throw new Error(`${error.message}\nspeaker:\n${speakerLog.join('')}\npeer:\n${peerLog.join('')}`);
    });
    const l2 = await waitFor('the ServiceL2Status of web', async () =>
      (await listCrs(bed, 'servicel2statuses')).find(
        (o) => o.metadata.labels?.['metalbeacon.io/node'] === 'node-a',
      ),
    );
    const bgpStatus = await waitFor('the ServiceBGPStatus of web', async () => {
      const all = await listCrs(bed, 'servicebgpstatuses');
      return all.length === 1 ? all[0] : undefined;
    });
    await waitFor('the gone node’s object collected', async () =>
      (await listCrs(bed, 'servicel2statuses')).every((o) => o.metadata.name !== 'left-behind'),
    );
    await waitFor(
      'a nodeAssigned event',
      async () => (await eventCount('web', 'nodeAssigned', 'default')) > 0,
    );

    // Someone changes a label of the speaker's objects: the speaker puts it back (a patch).
    for (const [plural, object] of [
      ['servicel2statuses', l2],
      ['servicebgpstatuses', bgpStatus],
    ] as const) {
      const labels = { ...object.metadata.labels };
      await bed.custom.patchNamespacedCustomObject(
        {
          group: 'metalbeacon.io',
          version: 'v1beta1',
          namespace: NS,
          plural,
          name: object.metadata.name,
          body: { metadata: { labels: { 'metalbeacon.io/service-name': 'tampered' } } },
        },
        MERGE,
      );
      await waitFor(`the label of the ${plural} object repaired`, async () => {
        const now = (await listCrs(bed, plural)).find((o) => o.metadata.name === object.metadata.name);
        return JSON.stringify(now?.metadata.labels) === JSON.stringify(labels);
      });
    }

    // No endpoints: nothing to announce, the status objects go; no peer: its session state goes.
    await setEndpoints(bed, 'web', []);
    await waitFor(
      'the status objects deleted',
      async () =>
        (await listCrs(bed, 'servicel2statuses')).length === 0 &&
        (await listCrs(bed, 'servicebgpstatuses')).length === 0,
    );
    await bed.custom.deleteNamespacedCustomObject({
      group: 'metalbeacon.io',
      version: 'v1beta1',
      namespace: NS,
      plural: 'bgppeers',
      name: 'router',
    });
    await waitFor(
      'the session state deleted',
      async () => (await listCrs(bed, 'bgpsessionstates')).length === 0,
    );
    await setEndpoints(bed, 'web', ['node-a']);
    await waitFor('announced again', async () => (await listCrs(bed, 'servicel2statuses')).length === 1);
    await speaker.stop();
    speaker = undefined;
    assert.deepEqual(await listCrs(bed, 'servicel2statuses'), [], 'a leaving speaker deletes its objects');
    await controller!.stop({ releaseLease: true });
    controller = undefined;
  });

  test('nothing any program asked was refused', () => {
    const refused = audit.filter((e) => !e.allowed).map((e) => `${e.user}: ${e.reason}`);
    assert.deepEqual(refused, []);
    for (const user of Object.values(users)) {
      assert.ok(
        audit.some((e) => e.user === user.name),
        `${user.name} made requests`,
      );
    }
  });
});

describe('every grant of the install is needed, and enough', () => {
  /** [what, its RBAC objects, the requests it would refuse (only the password Secret it does not name)] */
  const sources = (): [string, Manifest[], Record<string, string[]>][] => {
    const passwordRead = ['get secrets "router-password" in metalbeacon-system'];
    const config = readManifests([join(REPO_ROOT, 'config/rbac')]) as unknown as Manifest[];
    return [
      ['config/rbac', config, { speaker: passwordRead }],
      ['the kustomize build', kustomized, { speaker: passwordRead }],
      ['helm template (defaults)', helmDefault, { speaker: passwordRead }],
      ['helm template with speaker.bgpPasswordSecrets', helmPasswords, { speaker: [] }],
    ];
  };

  for (const index of [0, 1, 2, 3]) {
    test(`source ${index}: no grant beyond what the programs used, nothing they need refused`, () => {
      const [what, objects, expectedRefusals] = sources()[index]!;
      const policy = policyOf(objects);
      const accounts = new Set(
        objects.filter((o) => o.kind === 'ServiceAccount').map((o) => o.metadata.name),
      );
      for (const [key, user] of Object.entries(users)) {
        const account = user.name.split(':').at(-1)!;
        if (!accounts.has(account)) continue;
        assert.deepEqual(
          unusedGrants(policy, user, audit, NS),
          [],
          `${what}: ${account} is granted what it never used`,
        );
        assert.deepEqual(
          refusedRequests(policy, user, audit),
          expectedRefusals[key] ?? [],
          `${what}: ${account} would be refused`,
        );
      }
      // The membership-key Job exists in the kustomize build only (Helm renders the Secret).
      assert.equal(accounts.has('membership-key'), what === 'the kustomize build', what);
    });
  }
});

describe('what no install may ever grant, whatever the code comes to use', () => {
  // The derived test above keeps grants to what the code uses; these keep the code from coming
  // to use what would let a compromised Pod climb (issue 17).
  const at = (verb: string, resource: string, namespace: string, name = ''): RequestAttributes => {
    const [res = '', sub = ''] = resource.split('/');
    return {
      resourceRequest: true,
      verb,
      path: '',
      apiGroup: '',
      resource: res,
      subresource: sub,
      namespace,
      name,
    };
  };
  const never: [keyof typeof users, RequestAttributes][] = [
    // Secrets: the speaker never lists, watches, creates or changes one, nor reads another
    // name; the controller reads none.
    ['speaker', at('list', 'secrets', NS)],
    ['speaker', at('watch', 'secrets', NS)],
    ['speaker', at('create', 'secrets', NS)],
    ['speaker', at('update', 'secrets', NS, 'metalbeacon-membership')],
    ['speaker', at('patch', 'secrets', NS, 'metalbeacon-membership')],
    ['speaker', at('delete', 'secrets', NS, 'metalbeacon-membership')],
    ['speaker', at('get', 'secrets', NS, 'sh.helm.release.v1.metalbeacon.v1')],
    ['speaker', at('get', 'secrets', 'default', 'metalbeacon-membership')],
    ['controller', at('get', 'secrets', NS, 'metalbeacon-membership')],
    ['controller', at('list', 'secrets', NS)],
    // Tokens, Pods, Services.
    ['speaker', at('create', 'serviceaccounts/token', NS, 'controller')],
    ['controller', at('create', 'serviceaccounts/token', NS, 'speaker')],
    ['speaker', at('create', 'pods', NS)],
    ['speaker', at('patch', 'services/status', 'default', 'web')],
    ['speaker', at('patch', 'services', 'default', 'web')],
    ['controller', at('delete', 'services', 'default', 'web')],
    ['membershipKey', at('list', 'secrets', NS)],
    ['membershipKey', at('get', 'secrets', NS, 'router-password')],
  ];

  test('in config/rbac, the kustomize build and the Helm chart, whatever its values', () => {
    for (const [what, objects] of [
      ['config/rbac', readManifests([join(REPO_ROOT, 'config/rbac')]) as unknown as Manifest[]],
      ['the kustomize build', kustomized],
      ['helm template (defaults)', helmDefault],
      ['helm template with speaker.bgpPasswordSecrets', helmPasswords],
    ] as const) {
      const policy = policyOf(objects);
      for (const [who, request] of never) {
        const decision = authorize(users[who], request, policy);
        assert.equal(
          decision.allowed,
          false,
          `${what}: ${who} may ${describeRequest(request)} (${decision.reason})`,
        );
      }
      // Every binding names one of our ServiceAccounts, and no rule has a wildcard (grantsOf throws).
      for (const binding of [...policy.roleBindings, ...policy.clusterRoleBindings]) {
        for (const subject of binding.subjects ?? []) {
          assert.equal(subject.kind, 'ServiceAccount', `${what}: ${binding.metadata.name}`);
          assert.ok(['controller', 'speaker', 'membership-key'].includes(subject.name), subject.name);
        }
      }
      for (const user of Object.values(users)) assert.doesNotThrow(() => grantsOf(policy, user), what);
    }
  });
});
